#!/usr/bin/env node
// '@oclif/core/execute' rather than '@oclif/core': the narrow entry skips loading the whole
// library before it is needed (~18 ms of a ~130 ms cold start; see bench/).
import {execute} from '@oclif/core/execute'

await execute({dir: import.meta.url})
