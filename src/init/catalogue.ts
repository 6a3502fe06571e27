/**
 * Secrets `envsync init` offers, with what a careful runbook says about each: recipe, rotation,
 * format and which role of service receives it.
 */

/** Who receives a catalogue secret. */
export type Role =
  /** API services only (tokens, sessions, payments). */
  | 'api'
  /** Every server-side app: API, workers and services init cannot place. */
  | 'servers'
  /** Dashboards and monitoring (Grafana). */
  | 'observability'
  /** Database admin tools (pgAdmin). */
  | 'db-admin'

/** What a service is, read from its name: `backend` is an API, `jobs` a worker, `grafana` observability. */
export type ServiceKind = 'api' | 'worker' | 'observability' | 'db-admin' | 'public' | 'other'

export interface CatalogueEntry {
  key: string
  description: string
  role: Role
  group: string
  generate?: string
  rotate?: string
  format?: string
  sensitive?: boolean
  required?: boolean
  default?: string
  minLength?: number
  /** The variable the service's official image reads the secret file from, when not <KEY>_FILE. */
  dockerFileVariable?: string
  /** Offered pre-selected (and used by `init --yes` without --secrets). */
  recommended?: boolean
}

export const catalogue: CatalogueEntry[] = [
  {key: 'JWT_SECRET', description: 'Signs access tokens (HS256)', role: 'api', group: 'auth', generate: 'base64:48', rotate: '90d', recommended: true},
  {key: 'JWT_REFRESH_SECRET', description: 'Signs refresh tokens; differs from JWT_SECRET', role: 'api', group: 'auth', generate: 'base64:48', rotate: '90d', recommended: true},
  {key: 'SESSION_SECRET', description: 'Signs session cookies', role: 'api', group: 'auth', generate: 'base64:32', rotate: '6mo', recommended: true},
  {key: 'TWOFA_ENCRYPTION_KEY', description: 'AES-256 key for stored TOTP seeds', role: 'api', group: 'auth', generate: 'hex:32', rotate: '1y'},
  {key: 'SERVICE_INTERNAL_KEY', description: 'Shared key for service-to-service calls', role: 'servers', group: 'auth', generate: 'alnum:40', rotate: '90d', recommended: true},
  {key: 'DB_PASSWORD', description: 'Postgres password of the app user', role: 'servers', group: 'data', generate: 'alnum:32', rotate: '6mo', recommended: true},
  {key: 'DATABASE_URL', description: 'Postgres connection string', role: 'servers', group: 'data', format: 'postgres-url'},
  {key: 'REDIS_PASSWORD', description: 'Redis AUTH password', role: 'servers', group: 'data', generate: 'alnum:32', rotate: '6mo', recommended: true},
  {key: 'REDIS_URL', description: 'Redis connection string', role: 'servers', group: 'data', format: 'redis-url'},
  {key: 'MINIO_ROOT_PASSWORD', description: 'MinIO root password', role: 'servers', group: 'data', generate: 'alnum:40', rotate: '1y'},
  {key: 'GRAFANA_ADMIN_PASSWORD', description: 'Grafana admin login', role: 'observability', group: 'ops', generate: 'password:24', rotate: '6mo', dockerFileVariable: 'GF_SECURITY_ADMIN_PASSWORD__FILE'},
  {key: 'PGADMIN_DEFAULT_PASSWORD', description: 'pgAdmin login', role: 'db-admin', group: 'ops', generate: 'password:24', rotate: '6mo'},
  {key: 'SMTP_PASSWORD', description: 'SMTP relay password (from the mail provider)', role: 'servers', group: 'mail', minLength: 16, rotate: '1y'},
  {key: 'STRIPE_SECRET_KEY', description: 'Stripe API secret key (sk_live_… / sk_test_…)', role: 'api', group: 'payments', format: 'regex:^(sk|rk)_(live|test)_[A-Za-z0-9]+$', rotate: '1y'},
  {key: 'STRIPE_WEBHOOK_SECRET', description: 'Stripe webhook signing secret (whsec_…)', role: 'api', group: 'payments', format: 'regex:^whsec_[A-Za-z0-9]+$'},
  {key: 'AWS_ACCESS_KEY_ID', description: 'AWS access key id (S3)', role: 'servers', group: 'cloud', format: 'regex:^(AKIA|ASIA)[A-Z0-9]{16}$', rotate: '90d'},
  {key: 'AWS_SECRET_ACCESS_KEY', description: 'AWS secret access key', role: 'servers', group: 'cloud', minLength: 40, rotate: '90d'},
  {key: 'SENTRY_DSN', description: 'Error reporting DSN', role: 'servers', group: 'ops', format: 'url', required: false},
]

export function catalogueEntry(key: string): CatalogueEntry | undefined {
  return catalogue.find((e) => e.key === key)
}

// Matched against each '-'-separated part of a service name: `api-gateway`, `grafana-2`, `billing-worker`.
const KIND_WORDS: [ServiceKind, RegExp][] = [
  ['db-admin', /^(pgadmin|adminer|dbadmin|phpmyadmin)$/],
  ['observability', /^(observability|monitoring|grafana|metrics|prometheus|loki|ops)$/],
  ['worker', /^(workers?|jobs?|queues?|cron|scheduler|consumer|tasks?|sidekiq|celery)$/],
  ['api', /^(api|backend|server|app|core|gateway)$/],
]

export function serviceKind(service: {name: string; public: boolean}): ServiceKind {
  if (service.public) return 'public'
  const parts = service.name.split('-')
  return KIND_WORDS.find(([, words]) => parts.some((p) => words.test(p)))?.[0] ?? 'other'
}

const KIND_HINT: Record<Exclude<Role, 'servers'>, string> = {
  api: 'no API service (backend, api, server, app…)',
  observability: 'no observability service (grafana, monitoring…)',
  'db-admin': 'no database admin service (pgadmin, adminer…)',
}

/** Which services receive a secret; `fallback` says why when no service has the secret's role. */
export interface Assignment {
  services: string[]
  fallback?: string
}

/**
 * Which of the project's services receive a catalogue secret, by what each service is (its
 * name), never by the order they were listed. Without a service of the secret's role it goes to
 * the closest one (an unplaced server, then a worker), and says so.
 */
export function servicesForRole(role: Role, services: {name: string; public: boolean}[]): Assignment {
  const of = (...kinds: ServiceKind[]) => services.filter((s) => kinds.includes(serviceKind(s))).map((s) => s.name)
  const first = (...order: ServiceKind[][]): string[] => {
    for (const kinds of order) {
      const names = of(...kinds)
      if (names.length > 0) return names.slice(0, 1)
    }
    return []
  }
  const found = (names: string[], fallback: () => string[]): Assignment => {
    if (names.length > 0 || role === 'servers') return {services: names.length > 0 ? names : fallback()}
    const to = fallback()
    return to.length > 0 ? {services: to, fallback: `${KIND_HINT[role]}, so ${to.join(', ')} gets it`} : {services: []}
  }
  switch (role) {
    case 'api':
      return found(of('api'), () => first(['other'], ['worker'], ['observability', 'db-admin']))
    case 'servers':
      return found(of('api', 'worker', 'other'), () => of('observability', 'db-admin'))
    case 'observability':
      return found(of('observability'), () => first(['api'], ['other'], ['worker'], ['db-admin']))
    case 'db-admin':
      return found(of('db-admin'), () => first(['observability'], ['api'], ['other'], ['worker']))
  }
}
