import type {SecretDef} from '../manifest/manifest.js'
import type {Secret} from '../secret.js'
import {placeholderKind} from './placeholder.js'
import type {Finding, SecretRule, Severity} from './rules.js'

/**
 * Values that are well-formed but weak: a documented example credential, a test-mode key, a
 * default password in a connection URL, a local address, two secrets sharing one value. In a
 * protected environment each is an error; elsewhere a warning, except test-mode keys and local
 * addresses, which are what a development environment is supposed to hold (no finding there).
 * Findings name keys and the kind of weakness, never the value.
 */

/** Credentials that vendors print in their documentation, whole. */
const EXAMPLE_CREDENTIALS = new Set([
  // AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/security-creds.html
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'AKIAI44QH8DHBEXAMPLE',
  'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  // Stripe's documentation keys.
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  'pk_test_TYooMQauvdEDq54NiTphI7jx',
  'sk_test_BQokikJOvBiI2HlWgH4olfQ2',
  'pk_test_6pRNASCoBOKtIshFeQd4XMUh',
  // jwt.io's sample token.
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
])
/** AWS-style example keys end in EXAMPLE / EXAMPLEKEY; a random value does so once in 62^7. */
const EXAMPLE_SUFFIX = /^[A-Za-z0-9/+]{9,}EXAMPLE(KEY)?$/

/** Test-mode keys of payment and auth providers (Stripe, Clerk, Paystack, Razorpay, Flutterwave, Braintree, Mollie). */
const TEST_KEY = [/^(sk|pk|rk)_test_/, /^rzp_test_/, /^FLW(SECK|PUBK)_TEST-/, /^sandbox_[a-z0-9]{8}_[a-z0-9]{16}$/, /^test_[A-Za-z0-9]{30}$/]

/** Passwords that databases, brokers and tutorials ship with. */
const DEFAULT_PASSWORDS = new Set([
  ...['password', 'passwd', 'pass', 'pw', 'pwd', 'secret', 'admin', 'root', 'toor', 'test', 'default', 'changeme', 'guest', 'user'],
  ...['postgres', 'postgresql', 'mysql', 'mariadb', 'redis', 'mongo', 'mongodb', 'rabbitmq', 'sa', 'oracle', 'master', 'docker', 'example'],
  ...['123456', '1234', '12345', '12345678', '123456789', '1234567890', 'qwerty', 'letmein', 'welcome', 'abc123', 'admin123', 'root123'],
  ...['password1', 'password123', 'p@ssw0rd', 'passw0rd', 'p@ssword', 'secret123', 'dev', 'development', 'local', 'localdev'],
])

const LOCAL_HOST = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|::1?|0:0:0:0:0:0:0:[01]|host\.docker\.internal)$/i
const LOCAL_WHOLE = /^(localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|::1|\[::1\])(:\d{1,5})?$/i

function url(value: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

const decode = (s: string) => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Why a value is weak (never quoting it), with whether that matters outside protected environments. */
function weakness(spec: SecretDef, value: string): {why: string; everywhere: boolean} | undefined {
  if (EXAMPLE_CREDENTIALS.has(value) || EXAMPLE_SUFFIX.test(value)) return {why: "is a vendor's documented example credential", everywhere: true}
  if (TEST_KEY.some((re) => re.test(value))) return {why: 'is a test-mode key', everywhere: false}
  const u = url(value)
  if (u) {
    const password = decode(u.password)
    if (password !== '' && (DEFAULT_PASSWORDS.has(password.toLowerCase()) || password.toLowerCase() === decode(u.username).toLowerCase() || placeholderKind(password))) {
      return {why: password.toLowerCase() === decode(u.username).toLowerCase() ? 'has a URL whose password is the user name' : 'has a URL with a default password', everywhere: true}
    }
    if (LOCAL_HOST.test(u.hostname.replace(/^\[|\]$/g, ''))) return {why: 'points at a local address (localhost, 127.0.0.1, ::1)', everywhere: false}
  } else if (LOCAL_WHOLE.test(value)) return {why: 'is a local address (localhost, 127.0.0.1, ::1)', everywhere: false}
  if (spec.sensitive && DEFAULT_PASSWORDS.has(value.toLowerCase())) return {why: 'is a default password', everywhere: true}
  return undefined
}

const severityIn = (isProtected: boolean): Severity => (isProtected ? 'error' : 'warning')

export const weak: SecretRule = (spec, {value, env, file, manifest}) => {
  if (!value || value.isEmpty) return undefined
  const text = value.reveal()
  // A placeholder has its own finding; one is enough (asked only of the few weak values).
  const found = weakness(spec, text)
  const w = found && !placeholderKind(text) ? found : undefined
  const isProtected = manifest.isProtected(env)
  if (!w || (!w.everywhere && !isProtected)) return undefined
  const fromDefault = text === spec.default
  return {
    severity: severityIn(isProtected),
    rule: 'weak',
    key: spec.key,
    message: `${spec.key} ${w.why}${isProtected ? ` in the protected environment ${env}` : ''}${fromDefault ? ' (its manifest default)' : ''}`,
    hint: spec.generate ? `run \`envsync generate ${env} ${spec.key} --force\`` : `set ${spec.key} to ${env}'s own ${w.why.includes('local') ? 'address' : 'value'} in ${file}`,
  }
}

/**
 * Two sensitive keys with one value (JWT_REFRESH_SECRET = JWT_SECRET): one leak exposes both,
 * and rotating one does not rotate the other. Connection URLs are left alone: one database
 * under two names (DATABASE_URL and DIRECT_URL) is a deliberate alias. Values under 8
 * characters (flags, digits) are not secrets worth comparing.
 */
export function sameValueFindings(specs: SecretDef[], values: Map<string, Secret>, env: string, file: string, isProtected: boolean): Finding[] {
  const first = new Map<string, SecretDef>()
  const out: Finding[] = []
  for (const spec of specs) {
    const v = values.get(spec.key)
    if (!spec.sensitive || !v || v.length < 8) continue
    const text = v.reveal()
    if (url(text)) continue
    const earlier = first.get(text)
    if (!earlier) {
      first.set(text, spec)
      continue
    }
    out.push({
      severity: severityIn(isProtected),
      rule: 'same-value',
      key: spec.key,
      message: `${spec.key} has the same value as ${earlier.key}`,
      hint: spec.generate ? `run \`envsync generate ${env} ${spec.key} --force\` to give it its own value` : `give ${spec.key} its own value in ${file}`,
    })
  }
  return out
}
