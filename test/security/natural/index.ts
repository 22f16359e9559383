import type { SecurityCase } from '../cases/shared.ts';
import { devopsNaturalCases } from './devops.ts';
import { docsHrNaturalCases } from './docs-hr.ts';
import { emailCalendarNaturalCases } from './email-calendar.ts';
import { healthcareNaturalCases } from './healthcare.ts';
import { paymentsNaturalCases } from './payments.ts';
import { supportNaturalCases } from './support.ts';

/** Every case of the natural-language suite: attacks written in ordinary language, and benign controls that look like attacks. */
export const naturalCases: readonly SecurityCase[] = [...paymentsNaturalCases, ...emailCalendarNaturalCases, ...supportNaturalCases, ...docsHrNaturalCases, ...devopsNaturalCases, ...healthcareNaturalCases];
