/**
 * TLS 1.2 cipher suites every client endpoint of ours offers (HAProxy portals, the Envoy cluster
 * proxy): ECDHE with AEAD only, Mozilla's "intermediate" list. TLS 1.3 suites are the libraries' own.
 */
export const TLS12_CIPHER_SUITES: readonly string[] = Object.freeze([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
]);
