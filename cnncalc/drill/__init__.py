"""`cnncalc drill`: interview practice on the arithmetic of CNNs, graded by the engine.

Questions are generated per topic (cnncalc.drill.topics) or taken from the study notes' own examples
(cnncalc.drill.notes); each one's answer and worked solution come from the engine's rows. Progress
lives in a SQLite database (cnncalc.drill.store) with Leitner boxes per topic (cnncalc.drill.leitner).
"""
