/**
 * Data labels, version 1: what every piece of text a run handles carries (a context item, a tool
 * result, a model output, a tool argument), so access control and information flow can decide on
 * data the model has seen. Types only; how labels merge and propagate is the access component's
 * (src/access/labels.ts). Plain JSON shapes (type aliases, not interfaces), so labels are
 * journaled as they are.
 */

/** How sensitive data is, lowest first: what may leave the company depends on it. */
export type ClassificationV1 = 'public' | 'internal' | 'confidential' | 'personal';

/** Where text came from: untrusted text (a document, a tool result, a web page) is data, never instructions. */
export type OriginV1 = 'user' | 'system' | 'untrusted';

export type LabelsV1 = {
  /** The tenants whose data it holds; empty when it belongs to none (a system prompt, a public page). */
  tenants: string[];
  /** Absent when nobody classified it. A merge of several items takes the highest of theirs. */
  classification?: ClassificationV1;
  /** Every origin that contributed to it (a merge holds the union); empty when unknown. */
  origins: OriginV1[];
  /**
   * Whom confidential or personal data is about and may go to (a customer's address, a patient or
   * ticket id). A merge keeps only the subjects every sensitive part shares; absent, nobody.
   */
  subjects?: string[];
};
