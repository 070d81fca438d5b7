#!/usr/bin/env python3
"""Writes the made-up example label files of this folder (README.md).

iemocap_style_labels.csv is then split by `avctl data split` (the command in
README.md); this script writes its rows as iemocap_style_rows.csv."""
import random

r = random.Random(2023)
labels = ["ang", "hap", "exc", "sad", "neu"]
weights = [1103, 595, 1041, 1084, 1708]  # IEMOCAP's utterance counts of these five labels
rows = ["clip,session,speaker,gender,label"]
for s in range(1, 6):
    for g in ("F", "M"):
        for i in range(40):
            lab = r.choices(labels, weights)[0]
            rows.append(f"Ses0{s}{g}_utt{i:03d},Ses0{s},Ses0{s}{g},{'Female' if g == 'F' else 'Male'},{lab}")
open("iemocap_style_rows.csv", "w").write("\n".join(rows) + "\n")

r = random.Random(2024)
codes = ["N", "H", "A", "S", "C", "U", "F", "D", "O", "X"]
weights = [32, 20, 9, 8, 6, 4, 2, 2, 7, 10]  # rough shares of MSP-Podcast's consensus labels
rows = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
for s in range(34):
    split = "Train" if s < 21 else "Development" if s < 25 else "Test1" if s < 30 else "Test2"
    gender = "Female" if s % 2 else "Male"
    for i in range(20):
        c = r.choices(codes, weights)[0]
        act, val, dom = (round(r.uniform(1, 7), 1) for _ in range(3))
        rows.append(f"MSP-PODCAST_{1000 + s:04d}_{i + 1:04d}.wav,{c},{act},{val},{dom},{100 + s},{gender},{split}")
open("msp_podcast_style_labels_consensus.csv", "w").write("\n".join(rows) + "\n")
