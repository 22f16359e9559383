import { emailCalendarCases } from './email-calendar.ts';
import { internalDocsCases } from './internal-docs.ts';
import { paymentsCases } from './payments.ts';
import type { SecurityCase } from './shared.ts';
import { supportCases } from './support.ts';

export type { Attack, CaseToolSpec, Domain, EffectPattern, Placement, ReadResult, SecurityCase, Style } from './shared.ts';

/** Every case of the indirect prompt-injection suite. */
export const securityCases: readonly SecurityCase[] = [...paymentsCases, ...emailCalendarCases, ...supportCases, ...internalDocsCases];
