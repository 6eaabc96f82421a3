// What the chart and the map share: the page's JSON data blocks (never inline code, for the CSP)
// and the number format.
export const numberFormat = new Intl.NumberFormat("en");

export function readJson(id) {
  const el = id && document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}
