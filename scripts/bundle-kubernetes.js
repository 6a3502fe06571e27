// Build step: bundles the parts of @kubernetes/client-node that envsync uses into one minified
// file, dist/vendor/kubernetes-client.js. The package is ~900 ES modules whose import costs
// ~550 ms on every push to Kubernetes; the bundle (same code, same version) loads in ~100 ms.
// src/targets/kubernetes.ts falls back to the package itself when the bundle is absent (tsx).
import {build} from 'esbuild'

await build({
  stdin: {
    contents:
      "export {KubeConfig, CoreV1Api, AppsV1Api, setHeaderOptions, PatchStrategy, createConfiguration, ServerConfiguration, IsomorphicFetchHttpLibrary, ResponseContext, wrapHttpLibrary} from '@kubernetes/client-node'",
    resolveDir: new URL('..', import.meta.url).pathname,
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'external',
  outfile: new URL('../dist/vendor/kubernetes-client.js', import.meta.url).pathname,
  // CommonJS dependencies inside the bundle call require().
  banner: {js: "import {createRequire as __envsyncRequire} from 'node:module'; const require = __envsyncRequire(import.meta.url);"},
  logLevel: 'warning',
})
