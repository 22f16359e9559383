import { runBudgetConformance } from '../store/testing/index.ts';
import { MemoryBudgetBook } from './memory-budget-book.ts';

// One process, one book: both handles are the same object.
runBudgetConformance('memory', () => {
  const book = new MemoryBudgetBook();
  return Promise.resolve({ first: book, second: book, dispose: () => Promise.resolve() });
});
