export { SimulatorModel } from './simulator-model.ts';
export type { SimulatorOptions } from './simulator-model.ts';
export { simulatorProfiles } from './simulator-profiles.ts';
export type { SimulatorProfile } from './simulator-profiles.ts';
export type { ScriptInput, SimulatedTurn, SimulatorScript } from './simulator-script.ts';
export { echoScript } from './simulator-script.ts';
export { seededRandom, seedFrom } from './seeded-random.ts';
