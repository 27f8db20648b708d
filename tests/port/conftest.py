# The golden translations are data compared as text: pytest must not import (run) them.
collect_ignore_glob = ["golden/*.py", "zoo_golden/*.py"]
