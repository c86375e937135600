package system

import "flag"

var updateFlag = flag.Bool("update", false, "rewrite generated text (the README's support table)")
