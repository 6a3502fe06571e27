/** A small project for the CLI tests: one Docker environment, keys of every kind (generated, hand-set, config with a default, optional). */
export const DOCKER_MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  development:
    targets:
      docker: {}
secrets:
  JWT_SECRET: {services: [backend], generate: base64:32}
  API_TOKEN: {services: [backend]}
  LOG_LEVEL: {services: [backend], sensitive: false, default: info}
  SENTRY_DSN: {services: [backend], required: false, format: url}
`
