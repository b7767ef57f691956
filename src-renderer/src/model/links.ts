/**
 * Agent output is untrusted: a link the user clicks in the terminal opens only if it is plain
 * http(s). `javascript:`, `file:`, `data:` and custom schemes are refused.
 */
export function safeExternalUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // Credentials in a link are a phishing trick (https://bank.example@evil.example).
  if (url.username || url.password) return null;
  return url.href;
}
