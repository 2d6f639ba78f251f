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
}

/** NCMEC's test environment, named by the ISPWS documentation; production is https://report.cybertip.org/ispws. */
export const NCMEC_TEST_URL = 'https://exttest.cybertip.org/ispws';
export const DEFAULT_REPORTABLE_VERDICTS = ['confirm', 'suspend', 'takedown'];
export const DEFAULT_AUTO_REPORT_POLICIES = ['csam'];

const list = (value: string | undefined) => value?.split(',').map((item) => item.trim()).filter(Boolean);

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
    ...partial,
  };
}
