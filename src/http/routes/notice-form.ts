import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Bulwark } from '../../app.ts';
import { BulwarkError } from '../../errors.ts';
import { escapeHtml } from '../../reporting/html-text.ts';

/** Categories offered on the public form; the API takes any category slug. */
export const FORM_CATEGORIES: [string, string][] = [
  ['csam', 'Child sexual abuse material'],
  ['child_sexual_exploitation', 'Other sexual exploitation of children (grooming, solicitation)'],
  ['illegal_other', 'Other illegal content'],
];

const escape = escapeHtml;

interface FormValues {
  category?: string;
  locations?: string;
  explanation?: string;
  name?: string;
  email?: string;
  good_faith?: string;
}

const FORM_FIELDS = ['category', 'locations', 'explanation', 'name', 'email', 'good_faith'] as const;

/**
 * The form's fields from a body of any shape: a browser sends strings, but anyone may post
 * JSON or anything else here. Each field must be text (or absent); any other type is
 * named in `wrong` and the form is shown again with nothing sent.
 */
function formValues(body: unknown): { values: FormValues; wrong: string[] } {
  if (body === undefined || body === null) return { values: {}, wrong: [] };
  if (typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) return { values: {}, wrong: ['the notice must be sent as form fields'] };
  const values: FormValues = {};
  const wrong: string[] = [];
  for (const field of FORM_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (typeof value === 'string') values[field] = value;
    else wrong.push(`${field} must be text`);
  }
  return { values, wrong };
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1f2933; background: #f5f7fa; margin: 0; }
  main { max-width: 42rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; border: 1px solid #d9e2ec; }
  label { display: block; font-weight: 600; margin-top: 1rem; }
  .hint { font-weight: 400; color: #52606d; font-size: 0.9rem; }
  input[type=text], input[type=email], textarea, select { width: 100%; box-sizing: border-box; font: inherit; padding: 0.4rem; border: 1px solid #9aa5b1; border-radius: 4px; }
  textarea { min-height: 6rem; }
  .check { display: flex; gap: 0.5rem; align-items: flex-start; font-weight: 400; }
  button { margin-top: 1.5rem; font: inherit; padding: 0.5rem 1.25rem; border: 0; border-radius: 4px; background: #1f4e8c; color: #fff; cursor: pointer; }
  button:focus, input:focus, textarea:focus, select:focus { outline: 3px solid #f0b429; outline-offset: 1px; }
  .errors { background: #fde8e8; border: 1px solid #e12d39; padding: 0.75rem 1rem; border-radius: 4px; }
</style></head><body><main>${body}</main></body></html>`;
}

function form(values: FormValues = {}, errors: string[] = []): string {
  const options = FORM_CATEGORIES.map(([value, label]) => `<option value="${value}"${values.category === value ? ' selected' : ''}>${escape(label)}</option>`).join('');
  return page(
    'Report illegal content',
    `<h1>Report illegal content</h1>
<p>Tell us where the content is and why you believe it is illegal. For child sexual abuse material you do not need to give your name or email.</p>
${errors.length ? `<div class="errors" role="alert"><strong>Your notice was not sent:</strong><ul>${errors.map((error) => `<li>${escape(error)}</li>`).join('')}</ul></div>` : ''}
<form method="post" action="/notices">
  <label for="category">What kind of content is it?</label>
  <select id="category" name="category">${options}</select>
  <label for="locations">Where is it? <span class="hint">The exact web address (URL); one per line.</span></label>
  <textarea id="locations" name="locations" required>${escape(values.locations ?? '')}</textarea>
  <label for="explanation">Why is it illegal? <span class="hint">Do not attach or paste the content itself.</span></label>
  <textarea id="explanation" name="explanation" required>${escape(values.explanation ?? '')}</textarea>
  <label for="name">Your name <span class="hint">(not needed for child sexual abuse material)</span></label>
  <input type="text" id="name" name="name" autocomplete="name" value="${escape(values.name ?? '')}">
  <label for="email">Your email <span class="hint">(we send the acknowledgement and our decision here)</span></label>
  <input type="email" id="email" name="email" autocomplete="email" value="${escape(values.email ?? '')}">
  <label class="check"><input type="checkbox" name="good_faith" value="yes"${values.good_faith ? ' checked' : ''}>
    I confirm in good faith that the information and allegations in this notice are accurate and complete.</label>
  <button type="submit">Send notice</button>
</form>`,
  );
}

const send = (reply: FastifyReply, status: number, html: string) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(html);

/** The public notice form (DSA Art. 16(1): easy to access, user-friendly, by electronic means only). */
export const noticeFormRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (app) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/notices', { schema: { hide: true } }, async (_request, reply) => send(reply, 200, form()));

  app.post('/notices', { schema: { hide: true } }, async (request, reply) => {
    const { values, wrong } = formValues(request.body);
    if (wrong.length > 0) return send(reply, 400, form(values, wrong));
    const name = values.name?.trim();
    const email = values.email?.trim();
    try {
      const { notice, acknowledgement } = await bulwark.notices.submit(
        {
          category: values.category ?? '',
          locations: (values.locations ?? '').split(/\r?\n/).map((line) => line.trim()).filter(Boolean),
          explanation: values.explanation,
          ...(name || email ? { notifier: { ...(name ? { name } : {}), ...(email ? { email } : {}) } } : {}),
          good_faith: values.good_faith === 'yes',
        },
        'web_form',
      );
      return send(reply, 201, page('Notice received', `<h1>Thank you</h1><p>${escape(acknowledgement)}</p><p>Your reference: <strong>notice ${notice.id}</strong>.</p>`));
    } catch (error) {
      if (!(error instanceof BulwarkError) || error.kind !== 'invalid') throw error;
      const details = error.details as { missing?: string[]; problems?: string[] } | undefined;
      const errors = details?.missing || details?.problems ? [...(details.missing ?? []).map((m) => `Missing: ${m}`), ...(details.problems ?? [])] : [error.message];
      return send(reply, 400, form(values, errors));
    }
  });
};
