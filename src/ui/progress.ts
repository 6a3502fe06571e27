import type {ProgressEvent} from '../sync/sync.js'
import {style} from './style.js'

/**
 * Progress while destinations are written: on a terminal one status line rewritten in place
 * (cleared at the end), otherwise a plain line per finished destination, so logs stay readable.
 */
export function progress(stream: NodeJS.WriteStream): (e: ProgressEvent) => void {
  let done = 0
  return (e) => {
    if (e.type === 'done') done++
    if (!stream.isTTY) {
      if (e.type === 'done') stream.write(`[${done}/${e.total}] ${e.report?.status}: ${e.label}\n`)
      return
    }
    stream.write('\r\u001B[2K')
    if (done < e.total) stream.write(style.dim(`applying ${done}/${e.total}: ${e.label}…`, stream))
  }
}
