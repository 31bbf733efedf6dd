"""Writes tweet_cases.json: NLTK TweetTokenizer tokens and BERTweet's normalizeTweet output (VinAI's
TweetNormalizer.py with emoji kept, i.e. demojize replaced by the identity) for a set of tweets.

Run with nltk installed: python test/text/gen_tweet_cases.py
"""
import json
import os

from nltk.tokenize import TweetTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
tokenizer = TweetTokenizer()


def normalize_token(token):
    lowercased = token.lower()
    if token.startswith("@"):
        return "@USER"
    if lowercased.startswith("http") or lowercased.startswith("www"):
        return "HTTPURL"
    if len(token) == 1:
        return token  # BERTweet calls emoji.demojize(token) here; 'keep' mode leaves it
    if token == "’":
        return "'"
    if token == "…":
        return "..."
    return token


def normalize_tweet(tweet):
    tokens = tokenizer.tokenize(tweet.replace("’", "'").replace("…", "..."))
    s = " ".join(normalize_token(t) for t in tokens)
    s = s.replace("cannot ", "can not ").replace("n't ", " n't ").replace("n 't ", " n't ").replace("ca n't", "can't").replace("ai n't", "ain't")
    s = s.replace("'m ", " 'm ").replace("'re ", " 're ").replace("'s ", " 's ").replace("'ll ", " 'll ").replace("'d ", " 'd ").replace("'ve ", " 've ")
    s = s.replace(" p . m .", "  p.m.").replace(" p . m ", " p.m ").replace(" a . m .", " a.m.").replace(" a . m ", " a.m ")
    return " ".join(s.split())


TWEETS = [
    "SC has first two presumptive cases of coronavirus, DHEC confirms https://postandcourier.com/health/covid19/sc-has-first-two-presumptive-cases-of-coronavirus-dhec-confirms/article_bddfe4ae-5fd3-11ea-9ce4-5f495366cee6.html?utm_medium=social&utm_source=twitter&utm_campaign=user-share… via @postandcourier",
    "@user check https://t.co/abc123 NOW!!!",
    "I can't believe it's 5 p.m. already… we're late &amp; they'll wait 😂😂 #MondayBlues",
    "Call me at (555) 123-4567 or mail me@example.com :-) <3",
    "Sooooo goooood!!!!!! www.example.org/path :D",
    "Monday again... great, just what I needed. #sarcasm 🙄",
    "👍🏽 family: 👨‍👩‍👧 flag 🇵🇹 done",
    "He said ’hello’ — naïve résumé at 10:30, costs $3.50 & -4.5",
    "RT @Some_User: cannot wait!!! ain't it fun? I'm in, you'd go, we've been",
    "email&#8217;s &#x263A; &lt;b&gt;bold&lt;/b&gt; --> <-- ...",
    "Just landed in Lisbon and the sunset is unreal!! #travel",
    "café AU LAIT très bien — naïve résumé",
    "東京の桜がきれいです and 😂😂",
    "",
    "it's 6 a.m. and i'm up :( ;) =P <\\3 #nosleep @ 7am",
]

if __name__ == "__main__":
    cases = [{"text": t, "tokens": tokenizer.tokenize(t), "normalized": normalize_tweet(t)} for t in TWEETS]
    with open(os.path.join(HERE, "tweet_cases.json"), "w") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
