"""The report of a CitésLab, or of the whole network, over a period (what funders ask for), and
who may export what. One module per subject:

- ``subject``: which report a user reads (``report_subject``) and what it counts (``ReportScope``);
- ``figures``: ``report(scope, period)``, every figure in a fixed number of queries;
- ``tables``: ``report_tables(report)``, the figures as the tables the page shows and
  ``summary.xlsx`` holds, one definition of each;
- ``cached``: the report page's figures and the dashboard's intake, kept until the data changes;
- ``export_permissions``: which referrals and activities a user may export.
"""
