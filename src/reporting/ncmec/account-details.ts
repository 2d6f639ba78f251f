import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * What the platform knows about a reported account and Bulwark does not hold: its real
 * identifiers and recent IP log. Asked for when a report is sent, put into that report, and
 * never stored by Bulwark (docs/ncmec.md, "Account details from the platform").
 */
export interface AccountDetailsRequest {
  report_id: number;
  case_id: number;
  /** The platform's own id of the account (the report's espIdentifier). */
  account_id: string;
  /** The uploads the report is about. */
  content_ids: string[];
  /** The earliest upload the report names: IP events around it matter most. */
  incident_date_time: string;
}

export type AccountDetailsOutcome =
  | { kind: 'supplied'; details: AccountDetails }
  /** Nothing usable came back; `reason` is a code or a zod path, never the answer's content. */
  | { kind: 'unavailable'; reason: string };

/** Asks the platform for the account details of one report (one implementation per transport). */
export interface AccountDetailsSource {
  lookUp(request: AccountDetailsRequest): Promise<AccountDetailsOutcome>;
}

const DATE_TIME = z.iso.datetime({ offset: true });
const text = z.string().trim().min(1).max(256);
/** The enumerations below are the XSD's (emailType, phoneType, ipCaptureType). */
const EMAIL = z.strictObject({
  address: z.email().max(254),
  type: z.enum(['Home', 'Work', 'Business', 'Recovery']).optional(),
  verified: z.boolean().optional(),
  verified_at: DATE_TIME.optional(),
});
const PHONE = z.strictObject({
  number: z.string().trim().regex(/^[0-9+()./ -]{3,32}$/, 'a phone number'),
  type: z.enum(['Mobile', 'Home', 'Business', 'Work', 'Fax', 'Internet', 'Recovery']).optional(),
  country_calling_code: z.string().regex(/^\+[0-9]{1,3}$/).optional(),
  verified: z.boolean().optional(),
  verified_at: DATE_TIME.optional(),
});
const IP_EVENT = z.strictObject({
  ip_address: z.string().refine((value) => isIP(value) !== 0, 'an IPv4 or IPv6 address'),
  event: z.enum(['Login', 'Registration', 'Purchase', 'Upload', 'Other', 'Unknown']),
  at: DATE_TIME,
  port: z.number().int().min(0).max(65535).optional(),
  possible_proxy: z.boolean().optional(),
});

/** The platform's answer (docs/ncmec.md); unknown fields are refused so a typo is noticed, not dropped. */
export const ACCOUNT_DETAILS_ANSWER = z.strictObject({
  account_id: text,
  first_name: text.optional(),
  last_name: text.optional(),
  date_of_birth: z.iso.date().optional(),
  emails: z.array(EMAIL).max(20).default([]),
  phones: z.array(PHONE).max(20).default([]),
  screen_name: text.optional(),
  display_names: z.array(text).max(20).default([]),
  profile_urls: z.array(z.url({ protocol: /^https?$/ }).max(2048)).max(20).default([]),
  ip_events: z.array(IP_EVENT).max(500).default([]),
});
export type AccountDetails = z.infer<typeof ACCOUNT_DETAILS_ANSWER>;

/** How much of each kind the platform supplied: what the report's history records instead of the values. */
export function detailCounts(details: AccountDetails): Record<string, number> {
  const counts: Record<string, number> = {
    names: Number(details.first_name !== undefined) + Number(details.last_name !== undefined),
    date_of_birth: Number(details.date_of_birth !== undefined),
    emails: details.emails.length,
    phones: details.phones.length,
    screen_name: Number(details.screen_name !== undefined),
    display_names: details.display_names.length,
    profile_urls: details.profile_urls.length,
    ip_events: details.ip_events.length,
  };
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
}

/** Why an answer was refused, by field path and issue code only: the values are personal data. */
export function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.code}`);
  return `invalid answer (${issues.join('; ')}${error.issues.length > 5 ? `; ${error.issues.length - 5} more` : ''})`;
}
