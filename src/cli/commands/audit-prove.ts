import { KeelError } from '../../errors/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';

/**
 * `keel audit prove RUN`: the run's latest audit leaf, its inclusion proof against the latest
 * signed tree head, and that head. Reads only; `--json` is what a third party verifies with
 * the audit component's verifyInclusion and verifyTreeHeadSignature.
 */
export const auditProveCommand: Command = async (context) => {
  const [runId] = context.positionals;
  if (runId === undefined) throw new KeelError('usage-invalid', 'usage: keel audit prove RUN');
  const { proveRun } = await import('../../audit/index.ts');
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const proof = await proveRun(store, runId);
    if (context.options.json) {
      printJson(context, proof);
      return 0;
    }
    const { leaf, treeHead } = proof;
    context.output.stdout(
      `run ${runId} anchored at event ${leaf.seq} (hash ${leaf.eventHash}) on ${leaf.anchoredAt}\n` +
        `leaf ${leaf.index}: ${leaf.leafHash}\n` +
        `tree head: size ${treeHead.treeSize}, root ${treeHead.rootHash}, issued ${treeHead.issuedAt}, key ${treeHead.keyId}\n` +
        `signature: ${treeHead.signature}\n` +
        `inclusion proof (${proof.inclusionProof.length} hashes, leaf to root):\n${proof.inclusionProof.map((hash) => `  ${hash}\n`).join('')}`,
    );
    return 0;
  } finally {
    await store.close();
  }
};
