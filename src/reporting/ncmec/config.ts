import type { SchemaMode } from './schema-source.ts';

/**
 * Who reports, and where to. Personal data (the reporting and contact persons) comes only
 * from configuration or the environment, never from code.
 */
export interface NcmecReporterConfig {
  /** The platform's (ESP's) name, used in the company template when none is given. */
  espName?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  /** Someone law enforcement should contact other than the reporting person. */
  contact?: { firstName?: string; lastName?: string; email?: string; phone?: string };
  /** Text NCMEC includes in the report: company information, how to serve legal process, retention. */
  companyTemplate?: string;
  termsOfService?: string;
  legalUrl?: string;
}

export interface NcmecConfig {
  /** ISPWS base URL; NCMEC's documented test endpoint by default. */
  baseUrl: string;
  username?: string;
  password?: string;
  reporter: NcmecReporterConfig;
  /** Decisions that make a case reportable (verdicts). */
  reportableVerdicts: string[];
  /** Policies whose confirmed cases are reported automatically, when auto-reporting is on. */
  autoReportPolicies: string[];
  autoReport: boolean;
  /**
   * Which CyberTipline schema every document is validated against before it is sent: 'live'
   * fetches ISPWS's /xsd (falling back to the bundled copy when that fails), 'bundled' uses the
   * copy shipped with Bulwark. BULWARK_NCMEC_SCHEMA; default 'live'.
   */
  schema: SchemaMode;
  /** The platform's account-details callback (docs/ncmec.md); absent, reports carry what Bulwark holds. */
  accountDetails?: { url: string; secret: string; timeoutMs?: number };
  /**
   * How long an automatically filed report gathers an account's further confirmed material
   * before it is sent, counted from the report's first decision (default 1 h). A report stays
   * open to supplements until it is claimed for sending; the window only sets when that is.
   */
  groupWindowMs: number;
  /** Completeness (0-100) below which a lead must confirm a report before it is sent (default 0: never). */
  qualityFloor: number;
  /**
   * The longest any report waits, from its first decision, for gathering or for a lead's
   * confirmation (default 24 h): then it is sent with what there is and its history says so.
   */
  maxHoldMs: number;
  /** Report annotations (reportAnnotations) each decision policy implies, e.g. { sextortion: ['sextortion'] }. */
  policyAnnotations: Record<string, ReportAnnotation[]>;
}

/** The incident tags of the schema's reportAnnotations (each an empty-content `true` marker). */
export const REPORT_ANNOTATIONS = ['sextortion', 'csamSolicitation', 'minorToMinorInteraction', 'spam', 'sadisticOnlineExploitation'] as const;
export type ReportAnnotation = (typeof REPORT_ANNOTATIONS)[number];

export const DEFAULT_GROUP_WINDOW_MS = 60 * 60_000;
export const DEFAULT_MAX_HOLD_MS = 24 * 60 * 60_000;

/** NCMEC's test environment, named by the ISPWS documentation; production is https://report.cybertip.org/ispws. */
export const NCMEC_TEST_URL = 'https://exttest.cybertip.org/ispws';
export const DEFAULT_REPORTABLE_VERDICTS = ['confirm', 'suspend', 'takedown'];
export const DEFAULT_AUTO_REPORT_POLICIES = ['csam'];

const list = (value: string | undefined) => value?.split(',').map((item) => item.trim()).filter(Boolean);

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `90s`, `30m`, `24h` or `2d` (a bare number is seconds). */
export function parseNcmecDuration(value: string, name: string): number {
  const match = /^(\d{1,7})([smhd]?)$/.exec(value.trim());
  if (!match) throw new Error(`${name} must be a duration such as 30m, 24h or 2d, got ${JSON.stringify(value)}`);
  return Number(match[1]) * DURATION_UNITS[match[2] || 's'];
}

/** `policy=annotation+annotation,policy=annotation`, e.g. `sextortion=sextortion,grooming=csamSolicitation`. */
export function parsePolicyAnnotations(value: string): Record<string, ReportAnnotation[]> {
  const mapping: Record<string, ReportAnnotation[]> = {};
  for (const pair of list(value) ?? []) {
    const [policy, annotations] = pair.split('=').map((part) => part.trim());
    const parsed = (annotations ?? '').split('+').map((a) => a.trim());
    if (!policy || parsed.some((a) => !(REPORT_ANNOTATIONS as readonly string[]).includes(a))) {
      throw new Error(`BULWARK_NCMEC_POLICY_ANNOTATIONS: ${JSON.stringify(pair)} is not policy=annotation; annotations are ${REPORT_ANNOTATIONS.join(', ')}`);
    }
    mapping[policy] = parsed as ReportAnnotation[];
  }
  return mapping;
}

function qualityFloorFrom(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const floor = Number(value);
  if (!Number.isInteger(floor) || floor < 0 || floor > 100) throw new Error(`BULWARK_NCMEC_QUALITY_FLOOR must be an integer from 0 to 100, got ${JSON.stringify(value)}`);
  return floor;
}

/** The configuration from BULWARK_NCMEC_* variables. */
export function ncmecConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NcmecConfig {
  const contact = {
    firstName: env.BULWARK_NCMEC_CONTACT_FIRST_NAME,
    lastName: env.BULWARK_NCMEC_CONTACT_LAST_NAME,
    email: env.BULWARK_NCMEC_CONTACT_EMAIL,
    phone: env.BULWARK_NCMEC_CONTACT_PHONE,
  };
  return {
    baseUrl: env.BULWARK_NCMEC_URL || NCMEC_TEST_URL,
    username: env.BULWARK_NCMEC_USERNAME,
    password: env.BULWARK_NCMEC_PASSWORD,
    reporter: {
      espName: env.BULWARK_NCMEC_ESP_NAME,
      firstName: env.BULWARK_NCMEC_REPORTER_FIRST_NAME,
      lastName: env.BULWARK_NCMEC_REPORTER_LAST_NAME,
      email: env.BULWARK_NCMEC_REPORTER_EMAIL,
      phone: env.BULWARK_NCMEC_REPORTER_PHONE,
      contact: Object.values(contact).some(Boolean) ? contact : undefined,
      companyTemplate: env.BULWARK_NCMEC_COMPANY_TEMPLATE,
      termsOfService: env.BULWARK_NCMEC_TERMS_OF_SERVICE,
      legalUrl: env.BULWARK_NCMEC_LEGAL_URL,
    },
    reportableVerdicts: list(env.BULWARK_NCMEC_VERDICTS) ?? DEFAULT_REPORTABLE_VERDICTS,
    autoReportPolicies: list(env.BULWARK_NCMEC_AUTO_REPORT_POLICIES) ?? DEFAULT_AUTO_REPORT_POLICIES,
    autoReport: env.BULWARK_NCMEC_AUTO_REPORT === 'true' || env.BULWARK_NCMEC_AUTO_REPORT === '1',
    schema: schemaModeFrom(env.BULWARK_NCMEC_SCHEMA),
    accountDetails: accountDetailsFrom(env),
    groupWindowMs: env.BULWARK_NCMEC_GROUP_WINDOW ? parseNcmecDuration(env.BULWARK_NCMEC_GROUP_WINDOW, 'BULWARK_NCMEC_GROUP_WINDOW') : DEFAULT_GROUP_WINDOW_MS,
    qualityFloor: qualityFloorFrom(env.BULWARK_NCMEC_QUALITY_FLOOR),
    maxHoldMs: env.BULWARK_NCMEC_MAX_HOLD ? parseNcmecDuration(env.BULWARK_NCMEC_MAX_HOLD, 'BULWARK_NCMEC_MAX_HOLD') : DEFAULT_MAX_HOLD_MS,
    policyAnnotations: env.BULWARK_NCMEC_POLICY_ANNOTATIONS ? parsePolicyAnnotations(env.BULWARK_NCMEC_POLICY_ANNOTATIONS) : {},
  };
}

function schemaModeFrom(value: string | undefined): SchemaMode {
  if (value === undefined || value === '' || value === 'live') return 'live';
  if (value === 'bundled') return 'bundled';
  throw new Error(`BULWARK_NCMEC_SCHEMA must be live or bundled, not ${JSON.stringify(value)}`);
}

function accountDetailsFrom(env: NodeJS.ProcessEnv): NcmecConfig['accountDetails'] {
  const url = env.BULWARK_NCMEC_ACCOUNT_DETAILS_URL;
  if (!url) return undefined;
  // The platform that receives the enforcement webhooks answers this callback too; it may share their key.
  const secret = env.BULWARK_NCMEC_ACCOUNT_DETAILS_SECRET || env.BULWARK_WEBHOOK_SECRET;
  if (!secret) throw new Error('BULWARK_NCMEC_ACCOUNT_DETAILS_URL is set but neither BULWARK_NCMEC_ACCOUNT_DETAILS_SECRET nor BULWARK_WEBHOOK_SECRET (the signing key) is');
  const timeout = env.BULWARK_NCMEC_ACCOUNT_DETAILS_TIMEOUT_MS;
  const timeoutMs = timeout === undefined || timeout === '' ? undefined : Number(timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new Error(`BULWARK_NCMEC_ACCOUNT_DETAILS_TIMEOUT_MS must be a positive number of milliseconds, not ${JSON.stringify(timeout)}`);
  return { url, secret, timeoutMs };
}

export function ncmecConfig(partial: Partial<NcmecConfig> = {}): NcmecConfig {
  return {
    baseUrl: NCMEC_TEST_URL,
    reporter: {},
    reportableVerdicts: DEFAULT_REPORTABLE_VERDICTS,
    autoReportPolicies: DEFAULT_AUTO_REPORT_POLICIES,
    autoReport: false,
    schema: 'live',
    groupWindowMs: DEFAULT_GROUP_WINDOW_MS,
    qualityFloor: 0,
    maxHoldMs: DEFAULT_MAX_HOLD_MS,
    policyAnnotations: {},
    ...partial,
  };
}
