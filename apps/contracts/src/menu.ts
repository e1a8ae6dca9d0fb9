export const ORDER_STATUSES = ['placed', 'paid', 'cooking', 'cooked', 'served'] as const;

/** The price, in cents, of each dish on the menu. */
export const MENU: Readonly<Record<string, number>> = {
  bibimbap: 1200,
  bulgogi: 1500,
  kimchi: 400,
  japchae: 1100,
  tteokbokki: 900,
};

/** The price of a dish on the menu, in cents; `undefined` for anything else (`constructor` too). */
export function priceOf(dish: string): number | undefined {
  return Object.hasOwn(MENU, dish) ? MENU[dish] : undefined;
}
