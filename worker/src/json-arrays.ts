/**
 * Rows sent as ONE JSON parameter per statement (read with json_each), far under D1's 100
 * parameters: the pieces of such a parameter, split so none exceeds a byte budget.
 */

/** `texts` (JSON values) joined into JSON arrays of at most `maxBytes` characters each. */
export function jsonArrays(texts: readonly string[], maxBytes: number): string[] {
  const arrays: string[] = [];
  let chunk: string[] = [];
  let bytes = 2;
  for (const text of texts) {
    if (bytes + text.length + 1 > maxBytes && chunk.length > 0) {
      arrays.push(`[${chunk.join(",")}]`);
      chunk = [];
      bytes = 2;
    }
    chunk.push(text);
    bytes += text.length + 1;
  }
  if (chunk.length > 0) arrays.push(`[${chunk.join(",")}]`);
  return arrays;
}
