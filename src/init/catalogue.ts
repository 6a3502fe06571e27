/**
 * Secrets `envsync init` offers, with what a careful runbook says about each: recipe, rotation,
 * format and which kind of service receives it.
 */
export type Role =
  /** The main API service (first non-public, non-observability service). */
  | 'api'
  /** Every server-side service (API and workers). */
  | 'servers'
  | 'observability'
  | 'public'

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
  {key: 'GRAFANA_ADMIN_PASSWORD', description: 'Grafana admin login', role: 'observability', group: 'ops', generate: 'password:24', rotate: '6mo'},
  {key: 'PGADMIN_DEFAULT_PASSWORD', description: 'pgAdmin login', role: 'observability', group: 'ops', generate: 'password:24', rotate: '6mo'},
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

const OBSERVABILITY = /^(observability|monitoring|grafana|metrics|ops)$/

/** Which of the project's services receive a catalogue secret. */
export function servicesForRole(role: Role, services: {name: string; public: boolean}[]): string[] {
  const observability = services.filter((s) => !s.public && OBSERVABILITY.test(s.name)).map((s) => s.name)
  const servers = services.filter((s) => !s.public && !OBSERVABILITY.test(s.name)).map((s) => s.name)
  const fallback = servers.length > 0 ? servers : services.filter((s) => !s.public).map((s) => s.name)
  switch (role) {
    case 'api':
      return fallback.slice(0, 1)
    case 'servers':
      return fallback
    case 'observability':
      return observability.length > 0 ? observability : fallback.slice(0, 1)
    case 'public':
      return services.filter((s) => s.public).map((s) => s.name)
  }
}
