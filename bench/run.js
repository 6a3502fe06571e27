// `npm run bench`: every benchmark in bench/, one after another, each printing its own figures.
import {readdirSync} from 'node:fs'

for (const file of readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.js') && f !== 'run.js').sort()) {
  console.log(`\n== bench/${file}`)
  await import(`./${file}`)
}
