/* Unit tests: a service's own metrics (motcua/metrics.h) on /metrics: the
   service label first, HELP and TYPE once per name whatever the order of
   registration, counters add, gauges set, re-registration returns the same
   handle, bad names are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/src/internal.h"
#include "motcua/metrics.h"

static char *render(void)
{
    char *text = strdup("# common metrics\n");
    assert_non_null(text);
    text = mc_metrics_registered_append(text, "dossier");
    assert_non_null(text);
    return text;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void counters_and_gauges_render_with_the_service_label(void **state)
{
    (void)state;
    mc_metric *overdue = mc_metric_counter("t_handled_total", "Handled.", "kind=\"overdue\"");
    mc_metric *backlog = mc_metric_gauge("t_backlog", "Backlog.", NULL);
    mc_metric *stopped = mc_metric_counter("t_handled_total", "Handled.", "kind=\"stopped\"");
    assert_non_null(overdue);
    assert_non_null(backlog);
    assert_non_null(stopped);
    assert_ptr_equal(mc_metric_counter("t_handled_total", "Handled.", "kind=\"overdue\""), overdue);
    mc_metric_add(overdue, 3);
    mc_metric_add(overdue, 4);
    mc_metric_add(stopped, 1);
    mc_metric_set(backlog, 12);
    mc_metric_set(backlog, 5);
    mc_metric_add(NULL, 1); /* no-ops */
    mc_metric_set(NULL, 1);
    char *text = render();
    assert_non_null(strstr(text, "# common metrics\n"));
    assert_non_null(strstr(text, "t_handled_total{service=\"dossier\",kind=\"overdue\"} 7\n"));
    assert_non_null(strstr(text, "t_handled_total{service=\"dossier\",kind=\"stopped\"} 1\n"));
    assert_non_null(strstr(text, "t_backlog{service=\"dossier\"} 5\n"));
    assert_int_equal(count_of(text, "# TYPE t_handled_total counter\n"), 1);
    assert_int_equal(count_of(text, "# HELP t_handled_total Handled.\n"), 1);
    assert_int_equal(count_of(text, "# TYPE t_backlog gauge\n"), 1);
    /* the samples of one name follow its TYPE line, before the next name's */
    const char *type = strstr(text, "# TYPE t_handled_total");
    const char *stopped_line = strstr(text, "kind=\"stopped\"");
    const char *backlog_type = strstr(text, "# TYPE t_backlog");
    assert_true(type < stopped_line && stopped_line < backlog_type);
    free(text);
}

static void overlong_names_are_refused(void **state)
{
    (void)state;
    char name[200];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_null(mc_metric_counter(name, "Help.", NULL));
    assert_null(mc_metric_gauge(NULL, "Help.", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_and_gauges_render_with_the_service_label),
        cmocka_unit_test(overlong_names_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
