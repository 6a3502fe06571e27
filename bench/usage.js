// Preloaded into a benchmarked command (node --import): at exit it appends the process's own CPU
// time and peak memory to BENCH_USAGE_FILE, so benchmarks report CPU and memory beside wall time.
import {appendFileSync} from 'node:fs'

process.on('exit', () => {
  const u = process.resourceUsage()
  appendFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMb: u.maxRSS / 1024}) + '\n')
})
