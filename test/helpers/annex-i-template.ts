/**
 * The header rows of the Commission's CSV version of the Annex I quantitative template of
 * Implementing Regulation (EU) 2024/2835, as they stand in the copies kept in the public repository
 * johnou/dsa-transparency-report-generator (commit 338c3d5a3c2f3caf0daf7609f51906305a90f7ee),
 * src/main/resources/4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_<n>_<name>.csv.
 * Copied as text, trailing spaces inside labels and quoting included, so a test can compare bytes.
 */
export const COMMISSION_HEADERS: Record<number, { file: string; header: string }> = {
  1: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_1_summary.csv',
    header: `Applicability,Service,Indicator,Value`,
  },
  3: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_3_member_states_orders.csv',
    header: `Applicability,Service,Reporting period,Category of illegal content,"Description of the sub-category ""Other""",Scope,Number of orders to act against illegal content received,Number of specific items of information included in the total number of orders to act against illegal content,Median time to inform the authority of the receipt of the order to act against illegal content,Median time to give effect to the order to act against illegal content,Number of orders to provide information,Median time to inform the authority of the receipt of the order to provide information,Median time to give effect to the order to provide information,Contextual information on number of orders to act against illegal content received,Contextual information on number of specific items of information included in the total number of orders to act against illegal content,Contextual information on Median time to inform the authority of the receipt of the order to act against illegal content,Contextual information on Median time to give effect to the order to act against illegal content,Contextual information on Number of orders to provide information,Contextual information on Median time to inform the authority of the receipt of the order to provide information,Contextual information on Median time to give effect to the order to provide information`,
  },
  4: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_4_notices.csv',
    header: `Applicability,Service,Reporting period,Category of illegal content,"Description of the sub-category ""Other""",Number of notices received ,Number of notices received from Trusted flaggers,Number of specific items of information included in the total number of notices,Number of specific items of information included in the total number of notices by Trusted Flaggers (Trusted Flagger notices),Median time to take action,Median time to take action (Trusted Flagger notices),Number of actions taken on the basis of the law,Number of actions taken on the basis of the law (Trusted Flagger notices),Number of actions taken on the basis of the terms and conditions of the service,Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices),Contextual information on Number of notices received ,Contextual information on Number of notices received from Trusted flaggers,Contextual information on Number of specific items of information included in the total number of notices,Contextual information on Number of specific items of information included in the total number of notices by Trusted Flaggers (Trusted Flagger notices),Contextual information on Median time to take action,Contextual information on Median time to take action (Trusted Flagger notices),Contextual information on Number of actions taken on the basis of the law,Contextual information on Number of actions taken on the basis of the law (Trusted Flagger notices),Contextual information on Number of actions taken on the basis of the terms and conditions of the service,Contextual information on Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices)`,
  },
  5: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_5_own_initiative_illegal.csv',
    header: `Applicability,Service,Reporting period,Category of illegal content,"Description of the sub-category ""Other""",Number of measures taken at the provider's own initiative ,Number of measures taken after detection with solely automated means ,Visibility restriction Removal,Visibility restriction Disable,Visibility restriction Demoted,Visibility restriction Age restricted,Visibility restriction Interaction restricted,Visibility restriction Labelled ,Visibility restriction Other,Monetary restriction Suspension,Monetary restriction Termination,Monetary restriction Other,Provision of the service Suspension,Provision of the service Termination,Account restriction Suspension,Account restriction Termination,Contextual Information on Number of measures taken at the provider's own initiative ,Contextual Information on Number of measures taken after detection with solely automated means ,Contextual Information on Visibility restriction Removal,Contextual Information on Visibility restriction Disable,Contextual Information on Visibility restriction Demoted,Contextual Information on Visibility restriction Age restricted,Contextual Information on Visibility restriction Interaction restricted,Contextual Information on Visibility restriction Labelled ,Contextual Information on Visibility restriction Other,Contextual Information on Monetary restriction Suspension,Contextual Information on Monetary restriction Termination,Contextual Information on Monetary restriction Other,Contextual Information on Provision of the service Suspension,Contextual Information on Provision of the service Termination,Contextual Information on Account restriction Suspension,Contextual Information on Account restriction Termination`,
  },
  6: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_6_own_initiative_TC.csv',
    header: `Applicability,Service,Reporting period,Category of incompatibility with the provider's terms and conditions,"Description of the sub-category ""Other""",Number of measures taken at the provider's own initiative ,Number of measures taken after detection with solely automated means ,Visibility restriction Removal,Visibility restriction Disable,Visibility restriction Demoted,Visibility restriction Age restricted,Visibility restriction Interaction restricted,Visibility restriction Labelled ,Visibility restriction Other,Monetary restriction Suspension,Monetary restriction Termination,Monetary restriction Other,Provision of the service Suspension,Provision of the service Termination,Account restriction Suspension,Account restriction Termination,Contextual Information on Number of measures taken at the provider's own initiative ,Contextual Information on Number of measures taken after detection with solely automated means ,Contextual Information on Visibility restriction Removal,Contextual Information on Visibility restriction Disable,Contextual Information on Visibility restriction Demoted,Contextual Information on Visibility restriction Age restricted,Contextual Information on Visibility restriction Interaction restricted,Contextual Information on Visibility restriction Labelled ,Contextual Information on Visibility restriction Other,Contextual Information on Monetary restriction Suspension,Contextual Information on Monetary restriction Termination,Contextual Information on Monetary restriction Other,Contextual Information on Provision of the service Suspension,Contextual Information on Provision of the service Termination,Contextual Information on Account restriction Suspension,Contextual Information on Account restriction Termination`,
  },
  7: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_7_appeals_and_recidivism.csv',
    header: `Applicability,Service,Reporting period,Section,Indicator,Scope,Value,Contextual Information`,
  },
  8: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_8_automated_means.csv',
    header: `Applicability,Service,Reporting period,Section,Indicator,Scope,Value,Contextual Information`,
  },
  9: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_9_human_resources.csv',
    header: `Applicability,Service,Reporting period,Section,Indicator,Scope,Value,Contextual information`,
  },
  10: {
    file: '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_10_AMAR.csv',
    header: `Applicability,Service,Reporting period,Section,Indicator,Scope,Value`,
  },
};

/** How many data rows each part has once its "AT, […], SE" and "bg, [...], sv" placeholders are one row per Member State / language. */
export const ROW_COUNTS: Record<number, number> = { 1: 5, 3: 91 + 27 * 90, 4: 91, 5: 90, 6: 98, 7: 47, 8: 20 + 5 * 24, 9: 3 + 24, 10: 1 + 27 };

/** RFC 4180: quoted cells may hold commas, doubled quotes and line breaks; every record ends in CRLF. */
export function parseRfc4180(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') record.push(cell), records.push(record), (record = []), (cell = ''), i++;
    else cell += c;
  }
  if (record.length > 0 || cell.length > 0) throw new Error('the file does not end with CRLF');
  return records;
}
