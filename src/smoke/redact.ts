import { redactUrl } from '../lib/config.js';

/** Anything that looks like an absolute URL in a sentence, up to a blank or a quote. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * A sentence safe to print and to write into a report: every URL in it through redactUrl, so a
 * password in a URL's userinfo (of a target, or quoted by a library's own error) never shows.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}
