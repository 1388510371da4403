// Each role's day, in real Chromium against the real server on a fresh
// database. The journeys run in order and build on each other, as a new
// partnership would: set-up, evidence, review, award, training, certificates.
// Every page they reach, and every page in each role's navigation, is checked
// with axe-core and for reflow at 320 px.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launch, person, screenshot } from './lib/browser.mjs';
import { PageChecks, checkAxe, checkReflow, tabTo } from './lib/checks.mjs';
import { repoRoot, startServer } from './lib/server.mjs';

const PASSWORD = 'correct horse battery staple';
const LEAD = { name: 'Priya Shah', email: 'priya.shah@partnership.example' };
const MEMBER = { name: 'Sam Okafor', email: 'sam.okafor@brightwater.example' };
const ASSESSOR = { name: 'Alex Morgan', email: 'alex.morgan@partnership.example' };
const TRAINER = { name: 'Jo Clarke', email: 'jo.clarke@partnership.example' };
const EMPLOYER = 'Brightwater Foods';
const WORKPLACE_MARK = 'Domestic Violence and Abuse Quality Mark (workplace)';
// A PDF as far as the content check is concerned: it is judged by its bytes.
const POLICY_PDF = onePagePdf();

/// A real one-page PDF (with a correct cross-reference table): uploads are
/// checked by their whole structure, not by their first bytes.
function onePagePdf() {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets = objects.map((object, i) => {
    const at = body.length;
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
    return at;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((at) => `${String(at).padStart(10, '0')} 00000 n \n`).join('');
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

let server;
let browser;
const checks = new PageChecks();
const pages = {};

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (checks.checked.length > 0) console.log(`# pages checked with axe and at 320 px: ${checks.checked.length}`);
});

// --- What a person does, with every page they land on checked ---------------

async function open(page, path) {
  await page.goto(path);
  await checks.check(page);
}

/// Clicks something that loads a new page, waits for it and checks it.
async function follow(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
  await checks.check(page);
}

/// The keyboard's way of following a focused link or pressing a focused button.
async function pressEnter(page) {
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
  await checks.check(page);
}

const button = (page, name) => page.getByRole('button', { name, exact: true });
const link = (page, name) => page.getByRole('link', { name, exact: true });
/// A link in the main navigation, as a person finds the sections.
const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
const main = (page) => page.locator('main');

async function sees(page, text) {
  await assert.doesNotReject(
    main(page).getByText(text).first().waitFor({ timeout: 5000 }),
    `expected “${text}” on ${page.url()}; the page says:\n${await main(page).innerText()}`,
  );
}

async function heading(page, text) {
  assert.equal((await page.locator('h1').innerText()).trim(), text, `the heading on ${page.url()}`);
}

/// Today as day, month and year, in the partnership's time zone.
function dateParts(offsetDays = 0) {
  const at = new Date(Date.now() + offsetDays * 86_400_000);
  const [year, month, day] = at.toLocaleDateString('en-CA', { timeZone: 'Europe/London' }).split('-');
  return { day: String(Number(day)), month: String(Number(month)), year };
}

/// Fills a date question the way a person would: day, month and year boxes.
async function fillDate(page, name, parts) {
  await page.locator(`#${name}`).fill(parts.day);
  await page.locator(`#${name}-month`).fill(parts.month);
  await page.locator(`#${name}-year`).fill(parts.year);
}

/// Opens the focused file input's chooser from the keyboard. Headless
/// Chromium now and then lets the first key press pass without opening it, so
/// it is pressed again (still only the keyboard) before giving up.
async function chooseFileByKeyboard(page) {
  for (const key of ['Space', 'Enter', 'Space']) {
    const chooser = page.waitForEvent('filechooser', { timeout: 5000 }).catch(() => null);
    await page.keyboard.press(key);
    const opened = await chooser;
    if (opened) return opened;
  }
  throw new Error('the file chooser did not open from the keyboard');
}

/// Each role's home page: what it is called.
function homeHeading(who) {
  if (who === LEAD) return 'Dashboard';
  if (who === ASSESSOR) return 'Assessments to review';
  if (who === TRAINER) return 'Training: what needs doing';
  return `Next steps for ${EMPLOYER}`;
}

/// Everyone's home greets them by name; the programme lead's home is the dashboard.
async function atHome(page, who) {
  await heading(page, homeHeading(who));
  await sees(page, `Welcome, ${who.name}`);
}

/// A home page (new in this journey) checked as a phone shows it too: 375 px
/// as well as the 320 px every page gets.
async function checkNarrow(page) {
  await checkAxe(page);
  await checkReflow(page, 375);
  await checkReflow(page, 320);
}

async function signIn(page, who, password = PASSWORD) {
  await open(page, '/login');
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password').fill(password);
  await follow(page, button(page, 'Sign in'));
  await atHome(page, who);
}

async function addUser(page, who, role, organisation) {
  await follow(page, nav(page, 'Users'));
  await follow(page, button(page, 'Add a user'));
  await page.getByLabel('Full name').fill(who.name);
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel(role, { exact: true }).check();
  if (organisation) await page.getByLabel('Organisation', { exact: true }).fill(organisation);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await follow(page, button(page, 'Add user'));
  await sees(page, who.email);
}

async function addOrganisation(page, name, type) {
  await follow(page, nav(page, 'Organisations'));
  await follow(page, button(page, 'Add an organisation'));
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel(type, { exact: true }).check();
  await page.getByLabel('Locality').fill('East Vale');
  await follow(page, button(page, 'Save'));
  await heading(page, name);
}

/// Ticks every decision in one area of the review page and saves it.
async function decideArea(page, area, decide) {
  const section = page.locator(`#area-${area}`);
  for (const group of await section.locator('fieldset').all()) {
    const legend = (await group.locator('legend').innerText()).trim();
    const criterion = legend.replace('Decision on ', '');
    const [label, feedback] = decide(criterion);
    await group.getByLabel(label, { exact: true }).check();
    if (feedback) await section.getByLabel(`Feedback on ${criterion}`).fill(feedback);
  }
  await follow(page, section.getByRole('button', { name: `Save decisions for area ${area}` }));
}

// --- The journeys --------------------------------------------------------------

test('first-run set-up: the first visitor creates the programme lead, who signs out and in again', async () => {
  const page = (pages.lead = await person(browser, server.base));
  await open(page, '/');
  assert.match(page.url(), /\/setup$/, 'an empty database sends the first visitor to set-up');
  await heading(page, 'Set up qmtrack');

  // A mistake first: the error summary names it and links to the field.
  await follow(page, button(page, 'Create programme lead'));
  await sees(page, 'There is a problem');
  assert.match(await page.title(), /^Error: /);
  assert.ok(
    await page.evaluate(() => document.activeElement.classList.contains('qm-error-summary')),
    'the error summary takes focus, without any script',
  );

  await page.getByLabel('Full name').fill(LEAD.name);
  await page.getByLabel('Email address').fill(LEAD.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await follow(page, button(page, 'Create programme lead'));
  await atHome(page, LEAD);
  await sees(page, 'Your programme lead account is ready');

  await follow(page, button(page, 'Sign out'));
  await heading(page, 'Sign in');
  await open(page, '/setup');
  assert.equal(await page.locator('h1').innerText(), 'Page not found', 'set-up is gone once the lead exists');

  // A wrong password is refused with a message, then the right one works.
  await open(page, '/login');
  await page.getByLabel('Email address').fill(LEAD.email);
  await page.getByLabel('Password').fill('not the password at all');
  await follow(page, button(page, 'Sign in'));
  await sees(page, 'There is a problem');
  await signIn(page, LEAD);

  await addOrganisation(page, EMPLOYER, 'Employer');
  await addOrganisation(page, 'Housing Services', 'Council service');
  await addUser(page, MEMBER, 'Organisation member', EMPLOYER);
  await addUser(page, ASSESSOR, 'Assessor');
  await addUser(page, TRAINER, 'Training lead');
  await screenshot(page, '1-first-run');
});

test('keyboard only: an organisation member signs in, enrols and uploads evidence without a mouse', async () => {
  const page = (pages.member = await person(browser, server.base));
  await open(page, '/login');
  await tabTo(page, 'Email address');
  await page.keyboard.type(MEMBER.email);
  await tabTo(page, 'Password');
  await page.keyboard.type(PASSWORD);
  await tabTo(page, 'Sign in');
  await pressEnter(page);
  await atHome(page, MEMBER);

  await tabTo(page, 'Your assessments');
  await pressEnter(page);
  await tabTo(page, 'Enrol on a framework');
  await pressEnter(page);
  // Radios: Tab reaches the group, the arrow keys move within it.
  await tabTo(page, 'DAHA accreditation');
  for (let i = 0; i < 5 && !(await page.getByLabel(WORKPLACE_MARK).isChecked()); i += 1) {
    await page.keyboard.press('ArrowDown');
  }
  assert.ok(await page.getByLabel(WORKPLACE_MARK).isChecked(), 'the arrow keys choose the workplace mark');
  await tabTo(page, 'Enrol');
  await pressEnter(page);
  await heading(page, WORKPLACE_MARK);
  pages.assessmentPath = new URL(page.url()).pathname;

  // The first criterion still to do, its upload form, the file chooser, the dates.
  await tabTo(page, '1.1.1');
  await pressEnter(page);
  await tabTo(page, 'Upload a file');
  await pressEnter(page);
  await tabTo(page, 'File');
  const chooser = await chooseFileByKeyboard(page);
  await chooser.setFiles({ name: 'dva-leads.pdf', mimeType: 'application/pdf', buffer: POLICY_PDF });
  await tabTo(page, 'Title (optional)');
  await page.keyboard.type('List of DVA leads');
  const from = dateParts(-30);
  await tabTo(page, 'Day');
  await page.keyboard.type(from.day);
  await tabTo(page, 'Month');
  await page.keyboard.type(from.month);
  await tabTo(page, 'Year');
  await page.keyboard.type(from.year);
  await tabTo(page, 'Upload');
  await pressEnter(page);
  await heading(page, 'Criterion 1.1.1');
  await sees(page, 'List of DVA leads');
  await screenshot(page, '2-keyboard-upload');
});

test('an organisation member adds evidence for every mandatory criterion and sends it for review', async () => {
  const page = pages.member;
  await open(page, pages.assessmentPath);
  // A date that cannot be, then the error summary leads back to the field.
  await follow(page, page.locator('#missing a').first());
  await follow(page, button(page, 'Write a statement'));
  await page.getByLabel('Title', { exact: true }).fill('How leads are trained');
  await page.getByLabel('Statement').fill('Every lead completes the partnership’s DVA awareness day.');
  await fillDate(page, 'applies_from', { day: '31', month: 'February', year: '2026' });
  await follow(page, button(page, 'Add'));
  await sees(page, 'There is a problem');
  await page.locator('.qm-error-summary a').first().click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'applies_from', 'the link lands on the day box');
  const question = await page.locator('legend', { hasText: 'Applies from' }).boundingBox();
  assert.ok(question && question.y >= 0, `the question and its error stay in view (legend at ${question?.y})`);

  for (let done = 0; done < 20; done += 1) {
    if (!page.url().includes('/evidence/')) {
      await open(page, pages.assessmentPath);
      const missing = page.locator('#missing a');
      if ((await missing.count()) === 0) break;
      await follow(page, missing.first());
      await follow(page, button(page, 'Write a statement'));
      await page.getByLabel('Title', { exact: true }).fill('Our approach');
      await page.getByLabel('Statement').fill('Written for this criterion by the DVA lead.');
    }
    // "March" and "03" are both a month.
    await fillDate(page, 'applies_from', { day: '3', month: done % 2 ? 'March' : '03', year: '2026' });
    await follow(page, button(page, 'Add'));
    await sees(page, 'Our approach');
  }
  await open(page, pages.assessmentPath);
  await sees(page, 'Every mandatory criterion has evidence');
  await follow(page, button(page, 'Send for review'));
  await sees(page, 'Sent for review. An assessor will look at your evidence next');
  await screenshot(page, '3-submitted');
});

test('an assessor asks for changes, the member resubmits, and the programme lead awards', async () => {
  const assessor = (pages.assessor = await person(browser, server.base));
  await signIn(assessor, ASSESSOR);
  await follow(assessor, nav(assessor, 'Review queue'));
  await sees(assessor, EMPLOYER);
  await follow(assessor, assessor.getByRole('link', { name: new RegExp(EMPLOYER) }).first());
  if (!assessor.url().endsWith('/review')) await follow(assessor, button(assessor, 'Review this assessment'));
  await decideArea(assessor, '1', (c) => (c === '1.1.1' ? ['Partially met', 'Name a lead for the night shift too.'] : ['Met']));
  await sees(assessor, 'decisions saved');
  await assessor.getByLabel('Summary for the organisation (optional)').fill('Nearly there: one gap in area 1.');
  await follow(assessor, button(assessor, 'Send back for changes'));
  await heading(assessor, 'Review queue');
  await sees(assessor, `The assessment has been sent back to ${EMPLOYER}`);

  const member = pages.member;
  await open(member, pages.assessmentPath);
  await sees(member, 'The assessor has asked for changes');
  await sees(member, 'Name a lead for the night shift too.');
  await follow(member, member.locator('#to-address a', { hasText: '1.1.1' }));
  await follow(member, button(member, 'Write a statement'));
  await member.getByLabel('Title', { exact: true }).fill('Night shift lead');
  await member.getByLabel('Statement').fill('Our night shift manager is now a named DVA lead.');
  await fillDate(member, 'applies_from', dateParts(-1));
  await follow(member, button(member, 'Add'));
  await open(member, pages.assessmentPath);
  await follow(member, button(member, 'Resubmit for review'));
  await sees(member, 'Sent for review');

  await follow(assessor, nav(assessor, 'Review queue'));
  await follow(assessor, assessor.getByRole('link', { name: new RegExp(EMPLOYER) }).first());
  if (!assessor.url().endsWith('/review')) await follow(assessor, button(assessor, 'Review this assessment'));
  await sees(assessor, 'What changed since the last review');
  for (const area of ['1', '2', '3', '4', '5', '6']) await decideArea(assessor, area, () => ['Met']);
  await follow(assessor, button(assessor, 'Recommend the award'));
  await sees(assessor, 'has been recommended');

  const lead = pages.lead;
  await open(lead, '/');
  await follow(lead, nav(lead, 'Assessments'));
  await follow(lead, link(lead, WORKPLACE_MARK));
  await sees(lead, 'the assessor has recommended the award');
  await follow(lead, button(lead, `Award ${WORKPLACE_MARK}`));
  await sees(lead, `${EMPLOYER} has been awarded`);
  await open(member, pages.assessmentPath);
  assert.equal(await member.locator('#status').innerText(), 'Awarded');
  await screenshot(lead, '4-awarded');
});

test('a training lead imports a sign-in sheet, settles a flagged row and commits it', async () => {
  const page = (pages.trainer = await person(browser, server.base));
  await signIn(page, TRAINER);
  // Someone already on record under a slightly different spelling.
  await follow(page, nav(page, 'Organisations'));
  await follow(page, link(page, 'Housing Services'));
  await follow(page, button(page, 'Add a person'));
  await page.getByLabel('Full name').fill('Hannah Brookes');
  await follow(page, button(page, 'Save'));
  await sees(page, 'Hannah Brookes');

  await follow(page, nav(page, 'Training'));
  await follow(page, button(page, 'Import a sign-in sheet'));
  await page.getByLabel('Sign-in sheet').setInputFiles(join(repoRoot, 'tests/fixtures/attendance/ambassador-training-2025.csv'));
  await follow(page, button(page, 'Upload and check'));
  await sees(page, 'Is this the same person?');
  await sees(page, 'Hannah Brooks <hannah.brooks@council.example> (Housing Services)');
  await sees(page, '3, of whom 3 new');
  await page.getByLabel('Yes, the same person as Hannah Brookes').check();
  await follow(page, button(page, 'Check again with these choices'));
  await sees(page, '3, of whom 2 new');
  await follow(page, button(page, 'Import 5 records'));
  for (let i = 0; i < 50 && (await main(page).innerText()).includes('Importing'); i += 1) {
    await page.waitForTimeout(200);
    await page.reload();
  }
  await checks.check(page);
  await sees(page, '5 attendance records added');
  await sees(page, 'Added: 2 people');
  await screenshot(page, '5-imported');
});

test('a training lead adds a session, and an attendee answers its evaluation without an account', async () => {
  const page = pages.trainer;
  await open(page, '/training');
  await follow(page, button(page, 'Add a session'));
  await page.getByLabel('Module').selectOption({ label: 'DVA awareness: DVA awareness session' });
  const today = dateParts();
  await page.getByLabel('Date', { exact: true }).fill(`${today.day}/${today.month}/${today.year}`);
  await page.getByLabel('Venue (optional)').fill('Civic Centre');
  await follow(page, button(page, 'Add session'));
  await follow(page, link(page, 'Evaluation: link, QR code and results'));
  await sees(page, '0 responses');
  const url = await page.locator('#evaluation-link').getAttribute('href');

  // An attendee scans the code: no account, a phone-sized page.
  const attendee = await person(browser, server.base);
  await open(attendee, url);
  await heading(attendee, 'DVA awareness session');
  await sees(attendee, 'Your answers are anonymous');
  await follow(attendee, button(attendee, 'Send your answers'));
  await sees(attendee, 'There is a problem');
  await attendee.getByRole('group', { name: /improve your practice/ }).getByLabel('To a great extent').check();
  await attendee.getByRole('group', { name: /responding to a disclosure/ }).getByLabel('Fairly confident').check();
  await attendee.getByRole('group', { name: /where to refer/ }).getByLabel('Yes', { exact: true }).check();
  await attendee.getByLabel(/anything else/i).fill('Clear and practical.');
  await follow(attendee, button(attendee, 'Send your answers'));
  await sees(attendee, 'Thank you');

  await page.reload();
  await checks.check(page);
  await sees(page, '1 response; 100% said it will help them improve their practice to a great extent');
  await sees(page, 'Clear and practical.');
});

test('a certificate is downloaded, and its code typed into /verify says it is valid', async () => {
  const member = pages.member;
  await open(member, '/');
  await follow(member, nav(member, 'Certificates'));
  await follow(member, member.getByRole('link', { name: EMPLOYER }).first());
  const [download] = await Promise.all([member.waitForEvent('download'), member.getByRole('link', { name: /PDF/ }).first().click()]);
  const file = join(server.dataDir, 'downloaded-certificate.pdf');
  await download.saveAs(file);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  assert.match(text, /Brightwater Foods/);
  const code = text.match(/[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}/)?.[0];
  assert.ok(code, `a code on the certificate:\n${text}`);

  // Someone holding the paper copy, not signed in.
  const stranger = await person(browser, server.base);
  await open(stranger, '/verify');
  await heading(stranger, 'Check a certificate');
  await stranger.getByLabel('Certificate code').fill(code.toLowerCase().replaceAll('-', ' '));
  await follow(stranger, button(stranger, 'Check'));
  await sees(stranger, 'Valid');
  await sees(stranger, EMPLOYER);
  await screenshot(stranger, '6-verified');

  await open(stranger, '/verify');
  await stranger.getByLabel('Certificate code').fill('ABCD-EFGH-JKLM-NPQR');
  await follow(stranger, button(stranger, 'Check'));
  await sees(stranger, 'No certificate has that code');

  // The public register lists the workplace award, and links to its certificate's check.
  await open(stranger, '/register');
  await heading(stranger, 'Register of Quality Mark holders');
  await sees(stranger, WORKPLACE_MARK);
  await follow(stranger, stranger.getByRole('link', { name: `Check the certificate of ${EMPLOYER}` }));
  await sees(stranger, 'Valid');
});

test('a forgotten password: the lead makes a one-time link, and the member chooses a new password', async () => {
  const lead = pages.lead;
  await open(lead, '/');
  await follow(lead, nav(lead, 'Users'));
  await follow(lead, link(lead, MEMBER.name));
  await follow(lead, button(lead, 'Make a password reset link'));
  await heading(lead, 'Password reset link');
  const resetLink = (await lead.locator('#reset-link').innerText()).trim();
  assert.match(resetLink, new RegExp(`^${server.base}/reset-password/`));

  const member = await person(browser, server.base);
  await open(member, '/login');
  await sees(member, 'Ask your programme lead for a password reset link');
  await open(member, resetLink);
  await heading(member, 'Choose a new password');
  const newPassword = 'a new and memorable passphrase';
  await member.getByLabel('New password', { exact: true }).fill(newPassword);
  await member.getByLabel('Confirm new password').fill('something else');
  await follow(member, button(member, 'Save new password'));
  await sees(member, 'The passwords do not match');
  await member.getByLabel('New password', { exact: true }).fill(newPassword);
  await member.getByLabel('Confirm new password').fill(newPassword);
  await follow(member, button(member, 'Save new password'));
  await heading(member, 'Sign in');
  await sees(member, 'Your new password is set');
  await open(member, resetLink);
  await heading(member, 'This link no longer works');
  await signIn(member, MEMBER, newPassword);
  // The old session went with the old password.
  await open(pages.member, '/');
  assert.match(pages.member.url(), /\/login/);
  pages.member = member;

  // The command line makes the same kind of link, for when no lead can sign in.
  const cliLink = server.cli(['user', 'reset-password', '--email', LEAD.email]).trim();
  const stranger = await person(browser, server.base);
  await open(stranger, cliLink);
  await heading(stranger, 'Choose a new password');
  await screenshot(member, '7-password-reset');
});

test('the programme lead picks a period, writes the narrative, publishes the board report and downloads its PDF', async () => {
  const page = pages.lead;
  await open(page, '/');
  await heading(page, 'Dashboard');
  await page.getByLabel(/^This calendar year/).check();
  await follow(page, button(page, 'Show this period'));
  const year = new Date().toLocaleDateString('en-GB', { year: 'numeric', timeZone: 'Europe/London' });
  await sees(page, `1 January ${year} to 31 December ${year}`);
  // A section's own page, where the dashboard's long breakdowns lead, for the same period.
  const period = new URL(page.url()).search;
  await open(page, `/reports/sections/training${period}`);
  await sees(page, 'Every figure of this section of the board report');
  await checkNarrow(page);
  await open(page, `/${period}`);
  await follow(page, link(page, 'Write the narrative and publish'));
  await heading(page, 'Publish the board report');
  const narrative = 'Brightwater Foods gained the workplace Quality Mark this year.';
  await page.locator('textarea').first().fill(`${narrative}\n\nMore employers are enrolling.`);
  await follow(page, button(page, 'Publish'));
  await sees(page, `Published by ${LEAD.name}`);
  await sees(page, narrative);
  const title = (await page.locator('h1').innerText()).trim();
  assert.match(title, new RegExp(`1 January ${year} to 31 December ${year}`));

  await open(page, '/');
  await follow(page, link(page, 'Published reports'));
  await heading(page, 'Published reports');
  await follow(page, link(page, title));
  const [download] = await Promise.all([page.waitForEvent('download'), link(page, 'PDF').click()]);
  const file = join(server.dataDir, 'board-report.pdf');
  await download.saveAs(file);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  assert.match(text, /Brightwater Foods gained the workplace Quality Mark this year\./, 'the narrative is in the PDF');
  await screenshot(page, '8-report-published');
});

test('each role’s home page says what to do next, at desktop and phone widths', async () => {
  // The assessor: the queue is empty once the award is made, and says so.
  const assessor = pages.assessor;
  await open(assessor, '/');
  await atHome(assessor, ASSESSOR);
  await sees(assessor, 'Nothing is waiting for review.');
  await checkNarrow(assessor);
  await screenshot(assessor, '9-home-assessor');
  await follow(assessor, link(assessor, 'The whole review queue'));
  await heading(assessor, 'Review queue');

  // The training lead: a way into Training, sessions, registers, imports.
  const trainer = pages.trainer;
  await open(trainer, '/');
  await atHome(trainer, TRAINER);
  await sees(trainer, 'Registers to take');
  await sees(trainer, 'No sign-in sheet is waiting to be imported.');
  await sees(trainer, 'Training that lapses in the next 60 days');
  await sees(trainer, 'the last 90 days');
  await checkNarrow(trainer);
  await screenshot(trainer, '10-home-training-lead');
  await follow(trainer, button(trainer, 'Go to Training'));
  await heading(trainer, 'Training');

  // The member: the award, when it needs renewing, the certificate.
  const member = pages.member;
  await open(member, '/');
  await atHome(member, MEMBER);
  await sees(member, WORKPLACE_MARK);
  await sees(member, 'Awarded until');
  await sees(member, 'No evidence runs out in the next 90 days.');
  await sees(member, "Your staff's training");
  await checkNarrow(member);
  await screenshot(member, '11-home-member');
  await follow(member, link(member, 'See all your certificates'));
  await heading(member, 'Certificates');

  // The lead's home: what needs attention, above the dashboard's figures.
  const lead = pages.lead;
  await open(lead, '/');
  await sees(lead, 'Needs your attention');
  await sees(lead, 'Awards due for renewal');
  await sees(lead, 'Nothing is waiting for an assessor.');
  await checkNarrow(lead);
  await screenshot(lead, '12-home-lead');

  // The lead sees every organisation's standing in the list and on its page.
  await open(lead, '/organisations');
  await sees(lead, `Awarded ${WORKPLACE_MARK}, expires`);
  await checkNarrow(lead);
  await lead.getByLabel('Quality mark').selectOption({ label: 'In progress' });
  await follow(lead, button(lead, 'Search'));
  await sees(lead, '0 organisations');
  await open(lead, '/organisations');
  await follow(lead, link(lead, EMPLOYER));
  await sees(lead, 'Quality marks and assessments');
  await checkNarrow(lead);
  await screenshot(lead, '13-organisation');
  await open(lead, '/audit');
  await fillDate(lead, 'from', dateParts(-1));
  await follow(lead, button(lead, 'Filter'));
  await sees(lead, 'Clear the filter');
  await checkNarrow(lead);
});

test('every page in each role’s navigation passes axe and reflows at 320 px', async () => {
  for (const [role, page] of Object.entries(pages).filter(([, p]) => typeof p === 'object')) {
    await open(page, '/');
    const targets = await page.locator('nav[aria-label="Main"] a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    assert.ok(targets.length >= 5, `${role} has a navigation`);
    for (const target of targets) {
      await open(page, target);
      assert.notEqual(await page.locator('h1').innerText(), 'Page not found', `${role}: ${target}`);
    }
  }
});
