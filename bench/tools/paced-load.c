/*
 * paced-load: an open-loop HTTP/1.1 load generator for the fixed-rate scenarios.
 *
 * Requests are scheduled at Poisson arrival times (exponentially distributed gaps, nanosecond
 * resolution, one absolute timerfd) independently of the responses, and each starts on an idle
 * keep-alive connection (or waits for one, in order). Latency is measured from the scheduled start,
 * so a request the generator sends late counts against the path it waited for (as wrk2 does), and
 * also from the write that sent it. wrk paces with millisecond timers: the requests due in one
 * millisecond leave together, and a proxy sees bursts instead of the rate.
 *
 *   paced-load -p PORT -r RATE -d SECONDS [-c CONNECTIONS] [-u PATH] [-w WARMUP_SECONDS] [-s SEED]
 *
 * Connects to 127.0.0.1:PORT and sends one request on every connection before the schedule starts
 * (not counted). Responses must carry Content-Length. Prints one JSON line: requests,
 * seconds, errors, non2xx, late (sent more than 1 ms after their time), and p50/p90/p99/p999/max in
 * ms, from the scheduled start and from the write.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define BUF_SIZE 65536
#define QUEUE_SIZE (1 << 20)
#define TIMER_TAG UINT64_MAX

struct conn {
  int fd;
  int busy;
  uint64_t scheduled; /* ns, when the request in flight was due */
  uint64_t sent;      /* ns, when it was written */
  size_t have;        /* bytes of the response head kept in buf */
  int in_body;
  long long body_left;
  int status;
  int close_after; /* the response said `connection: close` */
  char buf[BUF_SIZE];
};

static struct conn *conns;
static int nconns = 64;
/* Idle connections in the order they became idle: a request takes the one idle the longest, so the
 * load spreads over every connection as it does over many clients (a stack would keep reusing two). */
static int *idle_ring;
static int idle_head, nidle;
static uint64_t queue[QUEUE_SIZE];
static size_t qhead, qtail;
static uint64_t *lat_sched, *lat_sent;
static size_t nlat, cap_lat;
static long long errors, non2xx, late, dropped;
static char request[1024];
static size_t request_len;
static int port;
static int epfd;
static int tfd = -1; /* the schedule's timer, once the schedule starts */
static uint64_t measure_from; /* requests scheduled before this are warm-up */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: the generator only needs well-spread gaps, not secrecy. */
static uint64_t rng_state = 88172645463325252ull;
static double uniform01(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void die(const char *what) {
  fprintf(stderr, "paced-load: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void push_idle(int i) {
  idle_ring[(idle_head + nidle) % nconns] = i;
  nidle++;
}

static int pop_idle(void) {
  int i = idle_ring[idle_head];
  idle_head = (idle_head + 1) % nconns;
  nidle--;
  return i;
}

/* Takes idle connection i out of the ring (it closed while idle). */
static void remove_idle(int i) {
  int kept = 0;
  for (int k = 0; k < nidle; k++) {
    int j = idle_ring[(idle_head + k) % nconns];
    if (j != i) idle_ring[(idle_head + kept++) % nconns] = j;
  }
  nidle = kept;
}

static void open_conn(int i) {
  struct conn *c = &conns[i];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  c->busy = 0;
  if (fd < 0) die("socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  c->fd = fd;
  c->have = 0;
  c->in_body = 0;
  c->close_after = 0;
  push_idle(i);
}

/*
 * A fresh connection replaces connection i: after a response that said `connection: close`, or when
 * the server closed it while idle, or (counted as an error) when it broke or spoke nonsense mid-request.
 */
static void reset_conn(int i) {
  struct conn *c = &conns[i];
  if (c->busy) errors++;
  else remove_idle(i);
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  open_conn(i);
}

static void record(uint64_t scheduled, uint64_t sent, uint64_t done) {
  if (scheduled < measure_from) return;
  if (nlat == cap_lat) {
    cap_lat = cap_lat ? cap_lat * 2 : 1 << 16;
    lat_sched = realloc(lat_sched, cap_lat * sizeof *lat_sched);
    lat_sent = realloc(lat_sent, cap_lat * sizeof *lat_sent);
    if (!lat_sched || !lat_sent) die("realloc");
  }
  lat_sched[nlat] = done - scheduled;
  lat_sent[nlat] = done - sent;
  nlat++;
}

static void send_on(int i, uint64_t scheduled) {
  struct conn *c = &conns[i];
  c->busy = 1;
  c->scheduled = scheduled;
  c->sent = now_ns();
  if (c->sent - scheduled > 1000000 && scheduled >= measure_from) late++;
  ssize_t n = write(c->fd, request, request_len);
  if (n != (ssize_t)request_len) reset_conn(i); /* a request this small fits an empty socket buffer */
}

/* Starts queued requests on idle connections, oldest first. */
static void dispatch(void) {
  while (qhead != qtail && nidle > 0) {
    uint64_t t = queue[qhead];
    qhead = (qhead + 1) % QUEUE_SIZE;
    send_on(pop_idle(), t);
  }
}

static void enqueue(uint64_t t) {
  size_t next = (qtail + 1) % QUEUE_SIZE;
  if (next == qhead) { dropped++; return; }
  queue[qtail] = t;
  qtail = next;
}

/* The value of header `name` (lower-case) in head[0, len), or NULL. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen) {
  size_t nl = strlen(name);
  const char *p = memchr(head, '\n', len);
  const char *end = head + len;
  while (p && p + 1 < end) {
    const char *line = p + 1;
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (!eol) break;
    if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
      const char *v = line + nl + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      const char *ve = eol;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      *vlen = (size_t)(ve - v);
      return v;
    }
    p = eol;
  }
  return NULL;
}

/* The response on connection i is complete. */
static void finish(int i) {
  struct conn *c = &conns[i];
  record(c->scheduled, c->sent, now_ns());
  if (c->status < 200 || c->status > 299) non2xx++;
  c->busy = 0;
  c->in_body = 0;
  c->have = 0;
  if (c->close_after) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    open_conn(i);
  } else {
    push_idle(i);
  }
}

/* Consumes bytes[0, n) of a response; returns 0, or -1 when the connection must be reset. */
static int consume(int i, const char *bytes, size_t n) {
  struct conn *c = &conns[i];
  while (n > 0) {
    if (!c->busy) return -1; /* bytes nobody asked for */
    if (c->in_body) {
      size_t take = (long long)n < c->body_left ? n : (size_t)c->body_left;
      c->body_left -= (long long)take;
      bytes += take;
      n -= take;
      if (c->body_left == 0) finish(i);
      continue;
    }
    size_t room = BUF_SIZE - c->have;
    size_t take = n < room ? n : room;
    memcpy(c->buf + c->have, bytes, take);
    c->have += take;
    bytes += take;
    n -= take;
    char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
    if (!end) {
      if (c->have == BUF_SIZE) return -1;
      continue;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    if (c->have < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0) return -1;
    c->status = atoi(c->buf + 9);
    size_t vlen;
    const char *cl = header(c->buf, head_len, "content-length", &vlen);
    if (!cl) return -1;
    long long len = strtoll(cl, NULL, 10);
    if (len < 0) return -1;
    const char *conn_value = header(c->buf, head_len, "connection", &vlen);
    c->close_after = conn_value != NULL && vlen == 5 && strncasecmp(conn_value, "close", 5) == 0;
    /* Bytes after the head in buf belong to the body. */
    size_t extra = c->have - head_len;
    char rest[BUF_SIZE];
    memcpy(rest, c->buf + head_len, extra);
    c->have = 0;
    c->in_body = 1;
    c->body_left = len;
    if (len == 0) finish(i);
    if (extra > 0 && consume(i, rest, extra) < 0) return -1;
  }
  return 0;
}

static void on_readable(int i) {
  static char in[BUF_SIZE];
  struct conn *c = &conns[i];
  for (;;) {
    ssize_t n = read(c->fd, in, sizeof in);
    if (n > 0) {
      if (consume(i, in, (size_t)n) < 0) { reset_conn(i); return; }
      if (n < (ssize_t)sizeof in) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    reset_conn(i); /* closed or failed */
    return;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(const uint64_t *sorted, size_t n, double p) {
  if (n == 0) return 0;
  size_t k = (size_t)ceil(p / 100.0 * (double)n);
  if (k > 0) k--;
  if (k >= n) k = n - 1;
  return (double)sorted[k] / 1e6;
}

static void print_pcts(const char *name, uint64_t *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_u64);
  printf("\"%s\":{\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f}", name,
         pct(v, n, 50), pct(v, n, 90), pct(v, n, 99), pct(v, n, 99.9), n ? (double)v[n - 1] / 1e6 : 0.0);
}

/* Waits up to timeout_ms for responses (or the schedule's timer), reads them, and starts queued requests. */
static void serve_events(int timeout_ms) {
  struct epoll_event events[256];
  int n = epoll_wait(epfd, events, 256, timeout_ms);
  if (n < 0 && errno != EINTR) die("epoll_wait");
  for (int k = 0; k < n; k++) {
    if (events[k].data.u64 == TIMER_TAG) {
      uint64_t expirations;
      if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("read timerfd");
      continue;
    }
    on_readable((int)events[k].data.u64);
  }
  dispatch();
}

/*
 * Each connection serves one request before the clock starts, so a run measures requests on
 * established keep-alive connections, as the scenarios mean, and not the server accepting every
 * connection at once while the first scheduled requests queue behind it.
 */
static void prime(void) {
  measure_from = UINT64_MAX;
  uint64_t t = now_ns();
  for (int i = 0; i < nconns; i++) enqueue(t);
  dispatch();
  const uint64_t give_up = t + 10000000000ull;
  while (qhead != qtail || nidle < nconns) {
    if (now_ns() > give_up) { fprintf(stderr, "paced-load: the first request on each connection got no response within 10 s\n"); exit(2); }
    serve_events(100);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: paced-load -p PORT -r RATE -d SECONDS [-c CONNECTIONS] [-u PATH] [-w WARMUP_SECONDS] [-s SEED]\n");
  exit(2);
}

int main(int argc, char **argv) {
  double rate = 0, seconds = 0, warmup = 0;
  const char *path = "/";
  int opt;
  while ((opt = getopt(argc, argv, "p:r:d:c:u:w:s:")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 'r': rate = atof(optarg); break;
      case 'd': seconds = atof(optarg); break;
      case 'c': nconns = atoi(optarg); break;
      case 'u': path = optarg; break;
      case 'w': warmup = atof(optarg); break;
      case 's': rng_state = strtoull(optarg, NULL, 10) | 1; break;
      default: usage();
    }
  }
  if (port <= 0 || rate <= 0 || seconds <= 0 || nconns <= 0 || nconns > MAX_CONNS || warmup < 0) usage();
  request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
  if (request_len >= sizeof request) usage();

  /* Timers fire when due, not up to 50 µs later (the default slack). */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  conns = calloc((size_t)nconns, sizeof *conns);
  idle_ring = calloc((size_t)nconns, sizeof *idle_ring);
  if (!conns || !idle_ring) die("calloc");
  for (int i = 0; i < nconns; i++) open_conn(i);
  prime();

  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (tfd < 0) die("timerfd_create");
  struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev) < 0) die("epoll_ctl timer");

  const double mean_gap_ns = 1e9 / rate;
  const uint64_t start = now_ns() + 1000000;
  measure_from = start + (uint64_t)(warmup * 1e9);
  const uint64_t stop = measure_from + (uint64_t)(seconds * 1e9);
  uint64_t next = start;
  int scheduling = 1;
  uint64_t drain_until = 0;

  for (;;) {
    if (scheduling) {
      uint64_t now = now_ns();
      while (next <= now && next < stop) {
        enqueue(next);
        next += (uint64_t)(-log(1.0 - uniform01()) * mean_gap_ns);
      }
      dispatch();
      if (next >= stop) {
        scheduling = 0;
        drain_until = now + 5000000000ull;
      } else {
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull)}};
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
      }
    }
    if (!scheduling) {
      if (qhead == qtail && nidle == nconns) break;
      if (now_ns() > drain_until) { errors += (long long)(nconns - nidle); break; }
    }
    serve_events(scheduling ? -1 : 100);
  }

  printf("{\"requests\":%zu,\"seconds\":%.3f,\"rate\":%.1f,\"connections\":%d,\"errors\":%lld,\"non2xx\":%lld,\"late\":%lld,\"dropped\":%lld,",
         nlat, seconds, rate, nconns, errors, non2xx, late, dropped);
  print_pcts("fromScheduled", lat_sched, nlat);
  printf(",");
  print_pcts("fromSent", lat_sent, nlat);
  printf("}\n");
  return 0;
}
