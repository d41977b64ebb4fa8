/**
 * The outcomes and follow-up page in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): it loads, signs in with an API key, draws the charts with the report's own data
 * points, and a referral is claimed, contacted and closed through the page, as the database then
 * shows. A screenshot of each page is written to .tap/screenshots/ (docs/screenshots/ with
 * UPDATE_SCREENSHOTS=1, which the README shows).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { chromium } from 'playwright-core';
import type { Report } from '../../src/domain/report.ts';
import { triage } from '../../src/triage/pipeline.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { REQUIRE_SERVICES } from '../helpers/services.ts';
import { testService } from '../http/fixture.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = join(import.meta.dirname, '..', '..');
const shots = join(root, process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : '.tap/screenshots');
if (!existsSync(CHROMIUM) && REQUIRE_SERVICES)
  throw new Error(`${CHROMIUM} is required for the page test (CI is set)`);

t.test(
  'the report and the referral queue in a real browser',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` },
  async (t) => {
    const ts = await testService(t);
    const app = ts.service.app;
    // A month of calls made by the pipeline itself, at night, so most open a follow-up referral.
    for (const c of devCases().slice(0, 60)) await triage(freshCall(c.call), ts.service.deps);
    const admin = await ts.key('admin', ['*']);
    const auth = { authorization: `Bearer ${admin}` };
    // Calls are decided at NIGHT (the fixture's clock); referrals are opened at the database's now.
    const to = new Date().toISOString().slice(0, 10);
    const expected = (
      await app.inject({ method: 'GET', url: `/v1/reports/summary?from=2026-02-01&to=${to}`, headers: auth })
    ).json() as Report;
    t.ok(expected.calls.total >= 60 && expected.referrals.opened > 0, 'a history with referrals');

    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    mkdirSync(shots, { recursive: true });

    await page.goto(`${url}/ui/`);
    t.equal(await page.title(), 'cad-triage — outcomes and follow-up');
    await page.getByLabel('API key').fill(admin);
    await page.getByLabel('From').fill('2026-02-01');
    await page.getByLabel('To').fill(to);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForSelector('body[data-ready="report"]');

    // Run in the page: the data points Chart.js holds for a canvas, and a referral row's status.
    const data = (id: string) =>
      page.evaluate(
        `(() => { const c = Chart.getChart(${JSON.stringify(id)}); return { labels: c.data.labels, values: c.data.datasets.map((d) => d.data) }; })()`,
      ) as Promise<{ labels: string[]; values: number[][] }>;
    const status = (id: string, value: string) =>
      page
        .locator(`tr[data-referral="${id}"] td:nth-child(4)`, { hasText: new RegExp(`^${value}$`) })
        .waitFor();
    const week = await data('chart-week');
    t.same(
      week.labels,
      expected.calls.perWeek.map((w) => w.week),
      'weeks drawn',
    );
    t.same(
      week.values[0],
      expected.calls.perWeek.map((w) => w.calls),
      'calls per week drawn',
    );
    const category = await data('chart-category');
    t.same(category.values[0], Object.values(expected.calls.byCategory), 'calls by category drawn');
    const modes = await data('chart-mode');
    t.same(modes.values[0], Object.values(expected.calls.byMode), 'recommended modes drawn');
    const duty = await data('chart-duty');
    t.equal(duty.values[0]!.length, 168, 'every hour of the week');
    t.equal(
      duty.values[0]!.reduce((a, b) => a + b, 0),
      expected.noSocialWorkerOnDuty.calls,
      'calls without a social worker on duty drawn',
    );
    t.match(
      await page.locator('#figures').innerText(),
      new RegExp(`Calls triaged\\s+${expected.calls.total}`),
    );
    await page.screenshot({ path: join(shots, 'report.png'), fullPage: true });

    // The queue: claim, record the contact and close the soonest-due referral.
    await page.getByRole('link', { name: 'Referral queue' }).click();
    await page.waitForSelector('body[data-ready="queue"]');
    const first = page.locator('#queue-table tbody tr').first();
    const referralId = await first.getAttribute('data-referral');
    t.ok(referralId, 'the queue lists referrals');
    await page.getByLabel('Your name').fill('J. Rivera, LCSW');
    await first.getByRole('button', { name: /^Details/ }).click();
    await page.waitForSelector('#detail h3');
    t.match(await page.locator('#detail').innerText(), /Scene safety/);
    await page.screenshot({ path: join(shots, 'queue.png') });

    const row = page.locator(`tr[data-referral="${referralId}"]`);
    await row.getByRole('button', { name: /^Claim/ }).click();
    await status(referralId!, 'assigned');
    await row.getByRole('button', { name: /^Contacted/ }).click();
    await status(referralId!, 'contacted');
    await row.getByLabel('Outcome').fill('connected to outpatient care');
    await row.getByRole('button', { name: /^Close/ }).click();
    await row.waitFor({ state: 'detached' });

    const { rows } = await ts.service.resources.db.query<{
      status: string;
      outcome: string;
      assigned_to: string;
      contacted_at: unknown;
    }>('SELECT status, outcome, assigned_to, contacted_at FROM referrals WHERE referral_id = $1', [
      referralId,
    ]);
    t.match(rows[0], {
      status: 'closed',
      outcome: 'connected to outpatient care',
      assigned_to: 'J. Rivera, LCSW',
    });
    t.ok(rows[0]!.contacted_at, 'the contact time is recorded');
    t.same(errors, [], 'no script errors on the page');
    await app.close();
  },
);

t.test('the page is served with a content security policy, and unknown keys see nothing', async (t) => {
  const ts = await testService(t);
  const page = await ts.service.app.inject({ method: 'GET', url: '/ui/' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-security-policy'], /default-src 'self'/);
  t.equal(
    (await ts.service.app.inject({ method: 'GET', url: '/ui/vendor/chart.umd.min.js' })).statusCode,
    200,
  );
  t.equal((await ts.service.app.inject({ method: 'GET', url: '/ui' })).statusCode, 302);
  const report = await ts.service.app.inject({
    method: 'GET',
    url: '/v1/reports/summary?from=2026-01-01&to=2026-01-31',
  });
  t.equal(report.statusCode, 401, 'the data needs a key');
});
