// bin/run.js starts here: oclif's runner from the same bundle as the commands it loads (one copy).
export {execute} from '@oclif/core/execute'
