/**
 * vLLM-shaped log lines: `(APIServer pid=1) INFO 01-15 10:23:45 [api_server.py:1880] message`.
 * The pids are the ones a vLLM container shows (API server is pid 1, EngineCore a child), not the host's.
 * INFO/DEBUG go to stdout, WARNING/ERROR to stderr.
 */

export type LogStream = 'stdout' | 'stderr';
export type LogSink = (line: string, stream: LogStream) => void;
export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export const API_SERVER_PID = 1;
export const ENGINE_CORE_PID = 109;

export const API_PREFIX = `(APIServer pid=${API_SERVER_PID})`;
export const ENGINE_PREFIX = `(EngineCore_DP0 pid=${ENGINE_CORE_PID})`;

export const defaultSink: LogSink = (line, stream) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(line + '\n');
};

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function vllmTimestamp(d: Date): string {
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatLine(prefix: string, level: Level, where: string, message: string, now = new Date()): string {
  return `${prefix} ${level} ${vllmTimestamp(now)} [${where}] ${message}`;
}

export interface Logger {
  api(level: Level, where: string, message: string): void;
  engine(level: Level, where: string, message: string): void;
  /** uvicorn's own lines: `(APIServer pid=1) INFO:     message`. */
  uvicorn(message: string): void;
}

export function createLogger(sink: LogSink = defaultSink): Logger {
  const emit = (prefix: string, level: Level, where: string, message: string): void => {
    const stream: LogStream = level === 'WARNING' || level === 'ERROR' ? 'stderr' : 'stdout';
    // Multi-line messages (tracebacks) carry the full prefix on every line, as vLLM's logger does.
    for (const part of message.split('\n')) sink(formatLine(prefix, level, where, part), stream);
  };
  return {
    api: (level, where, message) => emit(API_PREFIX, level, where, message),
    engine: (level, where, message) => emit(ENGINE_PREFIX, level, where, message),
    uvicorn: (message) => sink(`${API_PREFIX} INFO:     ${message}`, 'stdout'),
  };
}
