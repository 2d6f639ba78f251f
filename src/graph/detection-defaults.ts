/**
 * Defaults of the detection settings an operator can change from the command line, kept in
 * one place so `bulwark network detect --help` shows the values the detector uses.
 */
export const DETECTION_DEFAULTS = {
  /** Leads kept per run. */
  leadLimit: 200,
  /** CPM resolution: the least internal edge weight per pair of members a network must have. */
  resolution: 0.15,
  /** Smallest network reported. */
  minNetworkSize: 4,
} as const;
