/**
 * Preloaded with `node --import`: records every module file the process loads (ES modules and
 * require() alike) and writes the list to $KEEL_RECORD_MODULES when the process exits, followed by
 * the Node built-ins it loaded (`builtin:` lines, from process.moduleLoadList).
 */
// Not ES imports: importing node:fs would itself load the fs streams the read commands must not.
const { writeFileSync } = process.getBuiltinModule('node:fs');
const { registerHooks } = process.getBuiltinModule('node:module');

const output = process.env.KEEL_RECORD_MODULES;
const loaded = new Set<string>();
registerHooks({
  load: (url, context, nextLoad) => {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  // process.moduleLoadList is Node's own record of the built-ins it loaded (untyped, undocumented).
  const { moduleLoadList } = process as unknown as { moduleLoadList: string[] };
  const builtins = moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => `builtin:${entry.slice('NativeModule '.length)}`);
  if (output !== undefined) writeFileSync(output, `${[...loaded, ...builtins].join('\n')}\n`);
});
