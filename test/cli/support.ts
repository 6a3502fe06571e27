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

/** Three services over two environments, on three targets: for list flags and completion. */
export const SHOP_MANIFEST = `version: 1
project: shop
services:
  backend: {}
  frontend: {public: true}
  worker: {}
environments:
  development:
    targets:
      docker: {}
  production:
    targets:
      kubernetes: {namespace: shop, services: [backend, worker]}
      railway: {project: shop, services: {backend: api}}
secrets:
  API_TOKEN: {services: [backend]}
  QUEUE_TOKEN: {services: [worker]}
  VITE_URL: {services: [frontend], sensitive: false, default: "https://shop.test"}
  LOG_LEVEL: {services: [backend, worker], sensitive: false, default: info}
`
