/* options.progress: NICELY_PROGRESS_ALWAYS draws nicely run's bar on
 * stderr while the pool has work (done/total, rate, ETA; redrawn with
 * "\r") and ends it with a newline at 100%; each later batch gets a bar
 * of its own counting from 0; NICELY_PROGRESS_TTY draws nothing when
 * stderr is not a terminal; a bad value is NICELY_EINVAL. */
#include "tests/lib_util.h"
#include "tests/tap.h"

static int t_nap(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	lib_sleep_ms(30);
	return 0;
}

/* Run n tasks (twice: two batches) with progress mode m, stderr to a
 * file; its contents into buf. */
static void run(int m, int n, char *buf, size_t len)
{
	char path[] = "/tmp/nicely-progress-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	nicely_options o;
	nicely_pool *p;

	lib_opts(&o, 2);
	o.progress = m;
	setenv("COLUMNS", "100", 1);
	fflush(stderr);
	dup2(fd, 2);
	if (nicely_pool_new(&p, &o) == 0) {
		for (int b = 0; b < 2; b++) {
			for (int i = 0; i < n; i++)
				nicely_run(p, t_nap, NULL, 0);
			nicely_wait_all(p);
		}
		nicely_pool_free(p);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	lib_slurp(path, buf, len);
	unlink(path);
}

int main(void)
{
	static char out[1 << 16];
	nicely_options o;
	nicely_pool *p;
	int nl = 0;

	lib_env_setup();
	run(NICELY_PROGRESS_ALWAYS, 20, out, sizeof out);
	ok(out[0] == '\r', "ALWAYS: drawn with \\r");
	ok(strstr(out, "100% 20/20, ") != NULL, "ends at 100%% 20/20");
	ok(strstr(out, "/s, ") && strstr(out, "ETA "), "with a rate and an ETA");
	for (char *s = out; (s = strchr(s, '\n')); s++)
		nl++;
	is_int(nl, 1, "one line per batch: the second ends without a newline "
	       "of its own here (lib_slurp drops the last)");
	ok(strchr(out, '\n') && strstr(strchr(out, '\n'), "100% 20/20, "),
	   "the second batch has a bar of its own, to 100%% 20/20");
	ok(strstr(out, "40/40") == NULL, "not 40/40: each batch from 0");
	run(NICELY_PROGRESS_TTY, 5, out, sizeof out);
	is_str(out, "", "TTY mode, stderr a file: nothing drawn");
	run(NICELY_PROGRESS_OFF, 5, out, sizeof out);
	is_str(out, "", "off: nothing drawn");
	lib_opts(&o, 1);
	o.progress = 7;
	is_int(nicely_pool_new(&p, &o), NICELY_EINVAL, "progress 7: EINVAL");
	return tap_done();
}
