/**
 * Preloaded with `node --import`: records every module file the process loads (ES modules and
 * require() alike) and writes the list to $KEEL_RECORD_MODULES when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const output = process.env.KEEL_RECORD_MODULES;
const loaded = new Set<string>();
registerHooks({
  load: (url, context, nextLoad) => {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  if (output !== undefined) writeFileSync(output, `${[...loaded].join('\n')}\n`);
});
