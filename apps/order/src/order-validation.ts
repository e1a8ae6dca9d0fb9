import { MENU, priceOf } from '@restaurant/contracts';

const MAX_LINES = 20;
const MAX_QUANTITY = 50;

/** What is wrong with a new order, in words a customer can act on; empty when nothing. */
export function validateNewOrder(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return ['the order must be an object with "customer" and "items"'];
  }
  const { customer, items } = input as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof customer !== 'string' || customer.trim().length === 0 || customer.length > 100) {
    problems.push('"customer" must be a name of 1 to 100 characters');
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_LINES) {
    problems.push(`"items" must be a list of 1 to ${MAX_LINES} dishes`);
    return problems;
  }
  items.forEach((line: unknown, i) => {
    const { dish, quantity } = (typeof line === 'object' && line !== null ? line : {}) as Record<
      string,
      unknown
    >;
    if (typeof dish !== 'string' || priceOf(dish) === undefined) {
      problems.push(`items[${i}].dish must be one of: ${Object.keys(MENU).join(', ')}`);
    }
    if (
      typeof quantity !== 'number' ||
      !Number.isInteger(quantity) ||
      quantity < 1 ||
      quantity > MAX_QUANTITY
    ) {
      problems.push(`items[${i}].quantity must be a whole number from 1 to ${MAX_QUANTITY}`);
    }
  });
  return problems;
}
