// The parts of @kubernetes/client-node envsync uses, imported by name so the build keeps only
// these (~900 modules, ~550 ms to import whole) in a chunk loaded on the first Kubernetes request.
export {AppsV1Api, CoreV1Api, createConfiguration, IsomorphicFetchHttpLibrary, KubeConfig, PatchStrategy, ResponseContext, ServerConfiguration, setHeaderOptions, wrapHttpLibrary} from '@kubernetes/client-node'
