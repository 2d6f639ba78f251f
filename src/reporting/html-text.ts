/** Text helpers shared by every HTML page Bulwark writes (reports, the landing page, the notice form). */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A share as a percentage, with two decimals when it is under 1% but not zero. */
export const percent = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.01 ? 2 : 1)}%`;
