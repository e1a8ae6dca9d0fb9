import { expect } from 'chai';
import { MENU, priceOf } from '@restaurant/contracts';
import { validateNewOrder } from '../src/order-validation';

describe('order validation', () => {
  // Names every object has through its prototype: `dish in MENU` took them for dishes.
  const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

  it('refuses dishes that are not on the menu, inherited names included', () => {
    for (const dish of INHERITED) {
      const problems = validateNewOrder({ customer: 'Minji', items: [{ dish, quantity: 1 }] });
      expect(problems, dish).to.deep.equal([
        `items[0].dish must be one of: ${Object.keys(MENU).join(', ')}`,
      ]);
      expect(priceOf(dish), dish).to.equal(undefined);
    }
  });

  it('takes every dish on the menu and prices it', () => {
    for (const [dish, price] of Object.entries(MENU)) {
      expect(validateNewOrder({ customer: 'Minji', items: [{ dish, quantity: 2 }] })).to.deep.equal(
        [],
      );
      expect(priceOf(dish)).to.equal(price);
    }
  });
});
