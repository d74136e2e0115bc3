// The twin's `registry.k8s.io/pause` container: sleeps until told to stop.
const timer = setInterval(() => {}, 1 << 30);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    clearInterval(timer);
    process.exit(0);
  });
}
