import type {ProgressEvent} from '../sync/sync.js'
import {style} from './style.js'

/**
 * Progress while destinations are written: on a terminal one line rewritten in place, otherwise
 * a plain line per finished destination (logs and CI stay readable).
 */
export function progress(stream: NodeJS.WriteStream): (e: ProgressEvent) => void {
  let done = 0
  return (e) => {
    if (e.type !== 'done') {
      if (stream.isTTY) stream.write(`\r\u001B[2K${style.dim(`applying ${done}/${e.total}: ${e.label}…`, stream)}`)
      return
    }
    done++
    const status = e.report?.status ?? 'done'
    if (stream.isTTY) {
      stream.write(`\r\u001B[2K`)
      if (done < e.total) stream.write(style.dim(`applying ${done}/${e.total}…`, stream))
      else stream.write('')
    } else {
      stream.write(`[${done}/${e.total}] ${status}: ${e.label}\n`)
    }
  }
}
