import { expect } from 'chai';
import { MENU, NewOrder, priceOf, problemsOf } from '@restaurant/contracts';

const problems = (input: unknown): string[] => {
  const checked = NewOrder.safeParse(input);
  return checked.success ? [] : problemsOf(checked.error);
};

describe('the new-order contract', () => {
  // Names every object has through its prototype: `dish in MENU` took them for dishes.
  const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

  it('refuses dishes that are not on the menu, inherited names included', () => {
    for (const dish of INHERITED) {
      expect(problems({ customer: 'Minji', items: [{ dish, quantity: 1 }] }), dish).to.deep.equal([
        `items[0].dish must be one of: ${Object.keys(MENU).join(', ')}`,
      ]);
      expect(priceOf(dish), dish).to.equal(undefined);
    }
  });

  it('takes every dish on the menu and prices it', () => {
    for (const [dish, price] of Object.entries(MENU)) {
      expect(problems({ customer: 'Minji', items: [{ dish, quantity: 2 }] })).to.deep.equal([]);
      expect(priceOf(dish)).to.equal(price);
    }
  });

  it('says what is wrong in words a customer can act on', () => {
    expect(problems({ customer: '  ', items: [] })).to.deep.equal([
      '"customer" must be a name of 1 to 100 characters',
      '"items" must be a list of 1 to 20 dishes',
    ]);
    expect(problems({ customer: 'Ara', items: [{ dish: 'kimchi', quantity: 1.5 }] })).to.deep.equal(
      ['items[0].quantity must be a whole number from 1 to 50'],
    );
    expect(problems('an order')).to.deep.equal([
      'the order must be an object with "customer" and "items"',
    ]);
  });
});
