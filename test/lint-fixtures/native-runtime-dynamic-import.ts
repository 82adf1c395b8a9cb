// The same, lazily, as smoke steps import what they use.
export async function processHelpers() {
  return import('../stack/runtimes/native/process.js');
}
