/**
 * Run as its own process by the determinism test: assembles the sample context (shuffled with the
 * seed given as the first argument, if any) and prints the canonical JSON of the messages and the
 * manifest hash.
 */
import { canonicalJson } from '../../journal/index.ts';
import { assembleContext } from '../index.ts';
import { sampleInput, shuffledInput } from './sample-context.ts';

const seed = process.argv[2];
const input = seed === undefined ? sampleInput() : shuffledInput(sampleInput(), Number(seed));
const { messages, manifest } = assembleContext(input);
process.stdout.write(canonicalJson({ messages, manifestHash: manifest.manifestHash }));
