"""授信 in the app: credit policy versions, decisions (three amounts, final amount, trace)
and their maker-checker approval (a customer manager proposes, a branch manager — never
the same person — approves, rejects or refers back)."""
