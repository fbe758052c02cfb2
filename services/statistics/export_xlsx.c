/* Report 06a as XLSX (export_xlsx.h). */
#include "export_xlsx.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "report_rules.h"

#define HEADER_ROW 3 /* two rows: group labels, then column labels */

static lxw_format *header_format(lxw_workbook *wb)
{
    lxw_format *f = workbook_add_format(wb);
    format_set_bold(f);
    format_set_text_wrap(f);
    format_set_align(f, LXW_ALIGN_CENTER);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    format_set_border(f, LXW_BORDER_THIN);
    return f;
}

static void write_header(lxw_worksheet *ws, lxw_format *head)
{
    worksheet_merge_range(ws, HEADER_ROW, 0, HEADER_ROW + 1, 0, stat_06a_label_header, head);
    for (size_t i = 0; i < stat_06a_cells_count;) {
        size_t j = i;
        while (j + 1 < stat_06a_cells_count &&
               strcmp(stat_06a_cells[j + 1].group_label, stat_06a_cells[i].group_label) == 0)
            j++;
        lxw_col_t first = (lxw_col_t)(i + 1), last = (lxw_col_t)(j + 1);
        if (stat_06a_cells[i].label == NULL) {
            worksheet_merge_range(ws, HEADER_ROW, first, HEADER_ROW + 1, first,
                                  stat_06a_cells[i].group_label, head);
        } else {
            if (last > first)
                worksheet_merge_range(ws, HEADER_ROW, first, HEADER_ROW, last,
                                      stat_06a_cells[i].group_label, head);
            else
                worksheet_write_string(ws, HEADER_ROW, first, stat_06a_cells[i].group_label, head);
            for (size_t k = i; k <= j; k++)
                worksheet_write_string(ws, HEADER_ROW + 1, (lxw_col_t)(k + 1), stat_06a_cells[k].label,
                                       head);
        }
        i = j + 1;
    }
}

static void write_row(lxw_worksheet *ws, lxw_row_t r, const char *label, const json_t *columns,
                      lxw_format *text, lxw_format *number, lxw_format *rate)
{
    worksheet_write_string(ws, r, 0, label != NULL ? label : "", text);
    for (size_t i = 0; i < stat_06a_cells_count; i++) {
        double v = stat_06a_cell_value(columns, i);
        bool is_rate = i + 1 == stat_06a_cells_count;
        if (is_rate && v < 0)
            worksheet_write_blank(ws, r, (lxw_col_t)(i + 1), rate);
        else
            worksheet_write_number(ws, r, (lxw_col_t)(i + 1), v, is_rate ? rate : number);
    }
}

mc_error stat_06a_xlsx(const json_t *report, int *fd, unsigned long long *size)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/motcua-06a-XXXXXX", dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int tmp = mkstemp(path);
    if (tmp < 0)
        return MC_ERR_INTERNAL;
    close(tmp);
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = wb != NULL ? workbook_add_worksheet(wb, "06a") : NULL;
    if (ws == NULL) {
        if (wb != NULL)
            workbook_close(wb);
        unlink(path);
        return MC_ERR_INTERNAL;
    }
    lxw_format *title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 14);
    lxw_format *head = header_format(wb);
    lxw_format *text = workbook_add_format(wb), *number = workbook_add_format(wb),
               *rate = workbook_add_format(wb), *total_text = workbook_add_format(wb),
               *total_number = workbook_add_format(wb), *total_rate = workbook_add_format(wb);
    lxw_format *all[] = {text, number, rate, total_text, total_number, total_rate};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        format_set_border(all[i], LXW_BORDER_THIN);
    format_set_num_format(rate, "0.00");
    format_set_num_format(total_rate, "0.00");
    format_set_bold(total_text);
    format_set_bold(total_number);
    format_set_bold(total_rate);

    const json_t *period = json_object_get(report, "period");
    char subtitle[512];
    const char *agency = json_string_value(json_object_get(report, "agency_name"));
    snprintf(subtitle, sizeof subtitle, "%s, từ ngày %s đến ngày %s",
             agency != NULL ? agency : json_string_value(json_object_get(report, "agency_code")),
             json_string_value(json_object_get(period, "from")),
             json_string_value(json_object_get(period, "to")));
    lxw_col_t last_col = (lxw_col_t)stat_06a_cells_count;
    worksheet_merge_range(ws, 0, 0, 0, last_col,
                          "Tình hình, kết quả giải quyết thủ tục hành chính (mẫu 06a)", title);
    worksheet_merge_range(ws, 1, 0, 1, last_col, subtitle, NULL);
    worksheet_set_column(ws, 0, 0, 40, NULL);
    worksheet_set_column(ws, 1, last_col, 12, NULL);
    write_header(ws, head);

    lxw_row_t r = HEADER_ROW + 2;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row)
        write_row(ws, r++, stat_06a_row_label(row), row, text, number, rate);
    write_row(ws, r, stat_06a_total_label, json_object_get(report, "totals"), total_text, total_number,
              total_rate);

    lxw_error err = workbook_close(wb);
    int out = err == LXW_NO_ERROR ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    unlink(path);
    struct stat st;
    if (out < 0 || fstat(out, &st) != 0) {
        if (out >= 0)
            close(out);
        return MC_ERR_INTERNAL;
    }
    *fd = out;
    *size = (unsigned long long)st.st_size;
    return MC_OK;
}
