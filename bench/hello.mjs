// The baseline: the smallest Worker there is. Collector figures are read as a ratio to it.
export default { fetch: () => new Response("ok") };
