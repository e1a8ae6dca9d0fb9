import { expect } from 'chai';
import { atLeast } from '@brigade/core/internal';
import { headers as natsHeaders, JSONCodec } from 'nats';
import type { BrowserContext, Page } from 'playwright-core';
import { Cleanup, NatsServer, waitFor } from '@brigade/testing';
import { freePort, startProcess, type RunningProcess } from '../scripts/supervisor';
import {
  launchBrowser,
  lowestContrast,
  overflowsSideways,
  screenshot,
  skipWithoutChromium,
} from './support/browser';
import { Restaurant, TEST_LOGS } from './support/restaurant';
import { dashboardProcess } from '../scripts/topology';

const json = JSONCodec();

/** `brigade dashboard` as a user runs it, on a port of its own. */
async function startDashboard(
  cleanup: Cleanup,
  natsUrl: string,
  ...flags: string[]
): Promise<{ url: string; process: RunningProcess }> {
  const port = await freePort();
  const proc = cleanup.add(
    startProcess(
      dashboardProcess('--port', String(port), ...flags),
      `dashboard-${port}`,
      { NATS_URL: natsUrl },
      TEST_LOGS,
    ),
    (p) => p.stop(),
  );
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => (await fetch(`${url}api/snapshot`).catch(() => undefined))?.ok, {
    timeout: 15_000,
    message: () => `the dashboard answers (${proc.lastError ?? 'no error'})`,
  });
  return { url, process: proc };
}

/** A number shown in a cell, as the page renders it (`1,234`). */
async function shownNumber(page: Page, selector: string): Promise<number> {
  return Number((await page.locator(selector).first().innerText()).replace(/[^\d.]/g, ''));
}

describe('the dashboard and reception’s page, in Chromium @integration', function () {
  this.timeout(120_000);
  const cleanup = new Cleanup();
  let restaurant: Restaurant;
  let browser: BrowserContext;
  let dashboard: string;
  let page: Page;

  before(async function () {
    skipWithoutChromium(this);
    const server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    restaurant = await Restaurant.open(cleanup, server.url, {
      COOK_ATTEMPTS: '2',
      COOK_RETRY_BACKOFF: '200ms',
    });
    ({ url: dashboard } = await startDashboard(
      cleanup,
      server.url,
      '--allow-actions',
      '--poll-ms',
      '500',
    ));
    browser = await launchBrowser(cleanup);
    page = await browser.newPage();
    await page.goto(dashboard);
  });
  after(() => cleanup.run());

  it('lists the restaurant’s services with their instances, live, over a NATS it names', async () => {
    await page.locator('[data-service="kitchen"] [data-instance]').nth(1).waitFor();
    expect(await page.locator('[data-service="kitchen"] [data-instance]').count()).to.equal(2);
    for (const name of ['audit', 'kitchen', 'order', 'reception'])
      expect(await page.locator(`[data-service="${name}"]`).count(), name).to.equal(1);
    const cook = page.locator('[data-service="kitchen"] tr[data-handler="cook"]');
    expect(await cook.innerText()).to.match(/durable event \(ORDERS\/kitchen_cook\)/);
    expect(await page.locator('[data-service="order"] tr[data-handler="create"]').innerText())
      .to.include('order.create')
      .and.include('q');
    const connection = page.locator('#connection');
    expect(await connection.getAttribute('data-state')).to.equal('connected');
    expect(await connection.innerText()).to.match(/nats-server 2\.\d+\.\d+ .*JetStream on/);
    expect(
      await page.locator('[data-stream="ORDERS"] [data-consumer="kitchen_cook"]').count(),
    ).to.equal(1);
  });

  it('moves a handler’s counters and chart as orders come in', async () => {
    const create = '[data-service="order"] tr[data-handler="create"] [data-field="requests"]';
    const cook = '[data-service="kitchen"] tr[data-handler="cook"] [data-field="requests"]';
    const [creates, cooks] = [await shownNumber(page, create), await shownNumber(page, cook)];
    for (let i = 0; i < 3; i++)
      await restaurant.post(
        JSON.stringify({ customer: 'Ara', items: [{ dish: 'kimchi', quantity: 1 }] }),
      );
    await waitFor(async () => (await shownNumber(page, create)) === creates + 3, {
      timeout: 10_000,
      message: 'order.create counted three more requests',
    });
    await waitFor(async () => (await shownNumber(page, cook)) >= cooks + 3, {
      timeout: 20_000,
      message: 'the kitchens counted three more orders',
    });
    // The rate chart drew a line once there were two polls.
    expect(
      await page
        .locator('[data-service="order"] tr[data-handler="create"] svg.rate polyline')
        .count(),
    ).to.equal(1);
  });

  it('shows the poison order as a dead letter, opens it, replays it, and shows it back when it fails again', async () => {
    const created = await restaurant.nc.request(
      'order.create',
      json.encode({ customer: 'Mistake', items: [{ dish: 'kimchi', quantity: 1 }] }),
      { timeout: 5_000 },
    );
    const { id } = json.decode(created.data) as { id: string };
    const hdrs = natsHeaders();
    hdrs.set('order-id', id);
    await restaurant.nc.jetstream().publish(
      'orders.paid',
      json.encode({
        id,
        items: [{ dish: 'sannakji', quantity: 1 }],
        total: 400,
        at: new Date().toISOString(),
      }),
      { headers: hdrs, msgID: `paid-${id}` },
    );
    const row = page.locator('#letters tr[data-letter]', { hasText: 'sannakji' });
    await row.waitFor({ timeout: 20_000 });
    const sequence = Number(await row.getAttribute('data-letter'));
    expect(await row.innerText())
      .to.match(/no recipe for 'sannakji'/)
      .and.match(/ORDERS\/kitchen_cook/);
    expect(await row.innerText()).to.include('orders.paid');

    // Opened with the keyboard: the Open button is a real button.
    await row.locator('button', { hasText: 'Open' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('#letter-dialog');
    await dialog.locator('.payload').waitFor();
    const payload = await dialog.locator('.payload').innerText();
    expect(JSON.parse(payload)).to.deep.include({ id, items: [{ dish: 'sannakji', quantity: 1 }] });
    expect(payload).to.include('\n  "id"'); // pretty JSON
    expect(await dialog.innerText())
      .to.include('order-id')
      .and.include(id)
      .and.match(/Attempts\s+2/);
    await screenshot(page, 'dashboard-dead-letter');

    await dialog.locator('#replay').click();
    await page.locator('#confirm-dialog').waitFor();
    expect(await page.locator('#confirm-text').innerText()).to.include(
      `Replay dead letter ${sequence} to orders.paid`,
    );
    await page.locator('#confirm-yes').click();
    await page.locator('#action-result.ok').waitFor();
    expect(await page.locator('#action-result').innerText()).to.match(
      new RegExp(`dead letter ${sequence} replayed: stored in ORDERS as message \\d+`),
    );
    await page.locator(`#letters tr[data-letter="${sequence}"]`).waitFor({ state: 'detached' });
    // Replayed, it fails again in the kitchens and comes back as a new dead letter.
    const back = page.locator('#letters tr[data-letter]', { hasText: 'sannakji' });
    await back.waitFor({ timeout: 20_000 });
    expect(Number(await back.getAttribute('data-letter'))).to.be.greaterThan(sequence);
    await screenshot(page, 'dashboard');
  });

  it('drops a kitchen instance that stopped', async () => {
    await restaurant.running.get('kitchen-2')?.stop();
    await waitFor(
      async () => (await page.locator('[data-service="kitchen"] [data-instance]').count()) === 1,
      { timeout: 10_000, message: 'one kitchen instance left on the page' },
    );
    restaurant.start('kitchen', 'kitchen-2');
    await waitFor(
      async () => (await page.locator('[data-service="kitchen"] [data-instance]').count()) === 2,
      { timeout: 30_000, message: 'the restarted kitchen back on the page' },
    );
  });

  it('is readable: text contrast of at least 4.5:1, and no sideways scrolling on a phone', async () => {
    const contrast = await lowestContrast(
      page,
      'h1, h2, h3, p, th, td, code, button:not(:disabled), .muted, .label, .error-text, #connection',
    );
    expect(contrast).to.be.at.least(4.5);
    const phone = await browser.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(dashboard);
    await phone.locator('[data-service="kitchen"]').waitFor();
    expect(await overflowsSideways(phone)).to.equal(false);
    await phone.goto(restaurant.base);
    await phone.locator('#dishes input').first().waitFor();
    expect(await overflowsSideways(phone)).to.equal(false);
    await phone.close();
  });

  it('is read-only without --allow-actions, and says so', async () => {
    const readOnly = await startDashboard(cleanup, restaurant.natsUrl, '--poll-ms', '500');
    const other = await browser.newPage();
    await other.goto(readOnly.url);
    expect(await other.locator('#mode').innerText()).to.match(
      /Read-only: start with --allow-actions/,
    );
    const row = other.locator('#letters tr[data-letter]').first();
    await row.waitFor();
    await row.locator('button').click();
    await other.locator('#letter-dialog .payload').waitFor();
    expect(await other.locator('#replay').isDisabled()).to.equal(true);
    expect(await other.locator('#delete').isDisabled()).to.equal(true);
    expect(await other.locator('#letter-note').innerText()).to.match(/--allow-actions/);
    const sequence = await row.getAttribute('data-letter');
    const refused = await fetch(`${readOnly.url}api/dead-letters/${sequence}/replay`, {
      method: 'POST',
    });
    expect(refused.status).to.equal(403);
    expect(await other.locator('button[data-consumer-action]').count()).to.equal(0);
    const pause = await fetch(`${readOnly.url}api/consumers/ORDERS/kitchen_cook/pause`, {
      method: 'POST',
    });
    expect(pause.status).to.equal(403);
    await other.close();
  });

  it('deletes a dead letter once confirmed, and keeps it when the confirmation is cancelled', async () => {
    const row = page.locator('#letters tr[data-letter]', { hasText: 'sannakji' }).first();
    const sequence = await row.getAttribute('data-letter');
    await row.locator('button').click();
    const dialog = page.locator('#letter-dialog');
    await dialog.locator('.payload').waitFor();
    await dialog.locator('#delete').click();
    expect(await page.locator('#confirm-text').innerText()).to.include(
      `Delete dead letter ${sequence}? It is gone for good.`,
    );
    await page.keyboard.press('Escape'); // cancelled: nothing happens
    expect(await page.locator(`#letters tr[data-letter="${sequence}"]`).count()).to.equal(1);
    await dialog.locator('#delete').click();
    await page.locator('#confirm-yes').click();
    await page
      .locator('#action-result.ok', { hasText: `dead letter ${sequence} deleted` })
      .waitFor();
    await page.locator(`#letters tr[data-letter="${sequence}"]`).waitFor({ state: 'detached' });
  });

  it('pauses a consumer once confirmed and resumes it, where the server can pause consumers', async () => {
    const version = restaurant.nc.info?.version ?? '';
    const row = page.locator('[data-stream="ORDERS"] [data-consumer="reception_serve"]');
    await row.locator('button[data-consumer-action="pause"]').click();
    expect(await page.locator('#confirm-text').innerText()).to.include(
      'Pause consumer reception_serve of ORDERS for 5 minutes?',
    );
    await page.locator('#confirm-yes').click();
    if (!atLeast(version, '2.11')) {
      await page
        .locator('#action-result.bad', { hasText: 'needs nats-server 2.11 or later' })
        .waitFor();
      return;
    }
    await page
      .locator('#action-result.ok', { hasText: 'consumer reception_serve of ORDERS paused until' })
      .waitFor();
    // The next snapshot shows it paused, with the way back.
    await row.locator('[data-field="paused"]', { hasText: 'until' }).waitFor({ timeout: 10_000 });
    const jsm = await restaurant.nc.jetstreamManager();
    const paused = (await jsm.consumers.info('ORDERS', 'reception_serve')) as { paused?: boolean };
    expect(paused.paused).to.equal(true);
    await row.locator('button[data-consumer-action="resume"]').click();
    await page.locator('#confirm-yes').click();
    await page
      .locator('#action-result.ok', { hasText: 'consumer reception_serve of ORDERS resumed' })
      .waitFor();
    await row.locator('button[data-consumer-action="pause"]').waitFor({ timeout: 10_000 });
    const resumed = (await jsm.consumers.info('ORDERS', 'reception_serve')) as { paused?: boolean };
    expect(resumed.paused ?? false).to.equal(false);
  });

  it('says when NATS is unreachable, and shows the bus once it is there', async () => {
    const port = await freePort();
    const { url } = await startDashboard(cleanup, `nats://127.0.0.1:${port}`);
    const other = await browser.newPage();
    await other.goto(url);
    const connection = other.locator('#connection[data-state="unreachable"]');
    await connection.waitFor();
    expect(await connection.innerText()).to.match(
      new RegExp(`NATS unreachable at nats://127\\.0\\.0\\.1:${port}`),
    );
    cleanup.add(await NatsServer.start({ jetstream: true, port }), (s) => s.stop());
    await other.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    await other.close();
  });

  it('reception’s page: an order placed there reaches "served", live, with its kitchen', async () => {
    const shop = await browser.newPage();
    await shop.goto(restaurant.base);
    await shop.locator('#customer').fill('Minji');
    await shop.locator('#dish-bulgogi').fill('2');
    await shop.locator('#dish-kimchi').fill('1');
    await shop.getByRole('button', { name: 'Place order' }).click();
    await shop.locator('#result.ok').waitFor();
    const id = /Order (\w+) placed/.exec(await shop.locator('#result').innerText())?.[1];
    expect(id, 'the order id shown').to.be.a('string');
    const card = shop.locator(`li.order[data-order="${id}"]`);
    await shop
      .locator(`li.order[data-order="${id}"][data-status="served"]`)
      .waitFor({ timeout: 30_000 });
    const text = await card.innerText();
    expect(text)
      .to.include('Minji')
      .and.include('2× bulgogi')
      .and.match(/cooked by kitchen-[12]/);
    expect(await card.locator('li.done').count()).to.equal(5);

    // A refused order says why, on the page.
    await shop.locator('#customer').fill('Joon');
    await shop.getByRole('button', { name: 'Place order' }).click();
    await shop.locator('#result.bad').waitFor();
    expect(await shop.locator('#result').innerText()).to.match(/the order is invalid.*items/);
    expect(await lowestContrast(shop, 'h1, h2, h3, p, label, strong, li, button')).to.be.at.least(
      4.5,
    );
    await screenshot(shop, 'reception');
    await shop.close();
  });
});
