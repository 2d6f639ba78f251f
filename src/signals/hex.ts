/** Explains what is wrong with a would-be hex string of `digits` digits, or returns undefined when it is valid. */
export function describeHexProblem(value: string, digits: number): string | undefined {
  if (value.length !== digits) return `expected ${digits} hex digits, got ${value.length} characters`;
  const bad = [...value].findIndex((c) => !/[0-9a-fA-F]/.test(c));
  if (bad >= 0) return `non-hex character ${JSON.stringify(value[bad])} at position ${bad + 1}`;
  return undefined;
}
